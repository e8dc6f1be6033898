// The bundled 8x8 Fashion-MNIST, loaded from the installed package (its data/ beside dist/).
import { strict as assert } from 'node:assert';
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { CLASS_NAMES, COUNTS, dataDir, loadFashionMnist8x8, toFloat32 } from '@lopt/fashion-mnist-8x8';

const home = realpathSync(process.cwd()) + sep;
const dir = realpathSync(dataDir());
assert.ok(dir.startsWith(home + 'node_modules' + sep), `dataDir() ${dir} is not inside the consumer project ${home}`);

const train = await loadFashionMnist8x8('train');
const test = await loadFashionMnist8x8('test');
assert.equal(train.count, COUNTS.train);
assert.equal(test.count, COUNTS.test);
assert.equal(train.images16.length, 60000 * 64);
assert.equal(test.labels.length, 10000);
const x = toFloat32(train.images16);
// The README's numbers: the first training image is an ankle boot; pixel 20 is 16·pixel = 3658 → 3658 / 4080.
assert.equal(CLASS_NAMES[train.labels[0]!], 'Ankle boot');
assert.equal(x[20], 0.8965686559677124);
let sum = 0;
for (const l of test.labels) sum += l;
assert.equal(sum, 45000); // 1000 test images of each of the 10 classes
console.log(`train ${train.count}, test ${test.count}, label[0] ${CLASS_NAMES[train.labels[0]!]}, x[20] ${x[20]}, from ${dir}`);
