// README examples and check scripts as a user's files: the ESM form as written (top-level await)
// and a CommonJS form (imports become require() calls, the rest runs inside an async main()).
import ts from 'typescript';

function parse(code: string): ts.SourceFile {
  return ts.createSourceFile('snippet.mts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/** Why a module cannot be turned into CommonJS, or undefined when it can. */
function notConvertible(sf: ts.SourceFile): string | undefined {
  let why: string | undefined;
  const visit = (n: ts.Node): void => {
    if (why) return;
    if (ts.isMetaProperty(n) && n.keywordToken === ts.SyntaxKind.ImportKeyword) why = 'uses import.meta';
    else if (ts.isExportDeclaration(n) || ts.isExportAssignment(n)) why = 'has exports';
    else if (ts.canHaveModifiers(n) && ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) why = 'has exports';
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  return why;
}

/**
 * The CommonJS form of an ES module: its imports stay at the top (TypeScript turns them into
 * require() calls), every other statement moves into `async function main()`, so top-level await
 * still works. Returns a reason instead when the module cannot be converted.
 */
export function toCommonJs(code: string): { code: string } | { skip: string } {
  const sf = parse(code);
  const why = notConvertible(sf);
  if (why) return { skip: why };
  const imports: string[] = [];
  const body: string[] = [];
  for (const st of sf.statements) {
    const text = code.slice(st.getFullStart(), st.getEnd());
    (ts.isImportDeclaration(st) || ts.isImportEqualsDeclaration(st) ? imports : body).push(text);
  }
  const trailing = code.slice(sf.statements.at(-1)?.getEnd() ?? 0);
  return {
    code: [
      ...imports,
      '\nasync function main(): Promise<void> {',
      ...body,
      trailing,
      '}',
      'main().catch((e: unknown) => {',
      '  console.error(e);',
      '  process.exitCode = 1;',
      '});',
      '',
    ].join('\n'),
  };
}

/** TypeScript → JavaScript for Node, one file at a time (types are checked separately by tsc). */
export function transpile(code: string, format: 'esm' | 'cjs', fileName: string): string {
  const out = ts.transpileModule(code, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: format === 'esm' ? ts.ModuleKind.ES2022 : ts.ModuleKind.CommonJS,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    throw new Error(`${fileName}: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  }
  return out.outputText;
}
