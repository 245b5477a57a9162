// .dependency-cruiser.cjs — the layers of src/ (docs/architecture.md), checked by `npm run lint` and CI:
// no import cycles, and no file imports from its own layer's sibling folders or from a layer above it.
// A folder may import from its own files and from any lower layer. src/index.ts (the package's face) sits on top.
const LAYERS = [
  ['autograd'],
  ['nn', 'kernels', 'cpu', 'data'],
  ['models', 'gan', 'node'],
  ['train'],
  ['eval'],
  ['report'],
  ['app'],
  ['cli', 'web'],
];
const rules = [];
LAYERS.forEach((layer, i) => {
  for (const dir of layer) {
    // what dir may not import: its siblings in the layer and every folder above
    const banned = [...layer.filter((d) => d !== dir), ...LAYERS.slice(i + 1).flat()];
    rules.push({
      name: `layer-${dir}`,
      comment: `src/${dir} imports only from lower layers (${LAYERS.slice(0, i).flat().join(', ') || 'none'})`,
      severity: 'error',
      from: { path: `^src/${dir}/` },
      to: { path: [`^src/(${banned.join('|')})/`, '^src/index\\.ts$'] },
    });
  }
});
module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'no import cycles', severity: 'error', from: {}, to: { circular: true } },
    ...rules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^wgsl/' },
  },
};
