// line-length.mjs — `npm run lint`'s line check: no line of the sources longer than 120 characters (code points),
// except lines that hold a string, template or regex literal (ESLint max-len's ignoreStrings, ignoreTemplateLiterals
// and ignoreRegExpLiterals: a message or pattern stays whole, so it can be found with grep). Biome formats the code
// to 120 but leaves comments and literals alone; this catches the comments.
// Usage: node scripts/line-length.mjs [DIR|FILE ...]   (default: src test bench scripts web)
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 120;
const SKIP = /(^|\/)(node_modules|dist|results|peers)(\/|$)/;
const LITERALS = new Set([
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateExpression,
  ts.SyntaxKind.RegularExpressionLiteral,
]);

function* sources(p) {
  if (SKIP.test(p)) return;
  if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) yield* sources(join(p, e));
  else if (/\.(ts|js|mjs)$/.test(p)) yield p;
}

/** the lines (0-based) that a string, template or regex literal touches */
function literalLines(file, text) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = new Set();
  const visit = (node) => {
    if (LITERALS.has(node.kind)) {
      const a = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const b = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      for (let l = a; l <= b; l++) lines.add(l);
    } else ts.forEachChild(node, visit);
  };
  visit(sf);
  return lines;
}

let bad = 0;
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'test', 'bench', 'scripts', 'web'];
for (const root of roots)
  for (const file of sources(root)) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    let exempt = null;
    lines.forEach((line, i) => {
      if ([...line].length <= MAX) return;
      exempt ??= literalLines(file, text);
      if (exempt.has(i)) return;
      console.log(`${file}:${i + 1}: ${[...line].length} characters (at most ${MAX})`);
      bad++;
    });
  }
if (bad) {
  console.log(`${bad} line(s) over ${MAX} characters; wrap them (comments: at a word; code: npx biome format --write)`);
  process.exit(1);
}
