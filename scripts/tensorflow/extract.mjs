// Takes the TensorFlow C API out of a tensorflow(-cpu) wheel: the two shared libraries and the
// headers the tfjs-node addon includes (tensorflow/c and the few tsl/xla headers it pulls in;
// ~5 MB of the wheel's 270 MB of headers). Python's zipfile does the work: python is there
// wherever pip is, and `unzip` need not be.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const EXTRACT = String.raw`
import json, os, re, shutil, sys, zipfile
wheel, dest, libs = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
include = ('tensorflow/c/', 'tensorflow/core/platform/', 'tsl/', 'xla/tsl/')
n = 0
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    missing = [l for l in libs if 'tensorflow/' + l not in names]
    if missing:
        sys.exit('the wheel has no ' + ', '.join(missing) + ' (is it tensorflow or tensorflow-cpu for Linux x86-64?)')
    for info in z.infolist():
        name = info.filename
        if name.endswith('/'):
            continue
        if name in ['tensorflow/' + l for l in libs]:
            out = os.path.join(dest, 'lib', os.path.basename(name))
        elif name.startswith('tensorflow/include/') and name[19:].startswith(include):
            out = os.path.join(dest, 'include', name[19:])
        elif name == 'tensorflow/include/LICENSE':
            out = os.path.join(dest, 'LICENSE')
        else:
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        n += 1
m = re.match(r'(tensorflow(?:_cpu|_gpu)?)-([^-]+)-', os.path.basename(wheel))
info = {'wheel': os.path.basename(wheel), 'tensorflow': m.group(2) if m else 'unknown', 'files': n}
with open(os.path.join(dest, 'VERSION.json'), 'w') as f:
    json.dump(info, f, indent=2)
print(json.dumps(info))
`;

/** Extracts into `dest` (lib/, include/, LICENSE, VERSION.json); returns VERSION.json's content. */
export function extractTensorflow(python, wheel, dest, libs) {
  mkdirSync(dest, { recursive: true });
  const r = spawnSync(python, ['-c', EXTRACT, wheel, dest, libs.join(',')], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`setup:tensorflow: extracting ${wheel} failed:\n${r.stderr || r.error?.message}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
