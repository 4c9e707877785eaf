/**
 * The layers of lib/ (see ../shared/DESIGN.md, "The layers"), from the ground up:
 *
 *   kernels  <  core  <  ops  <  nn, optim, data, io, report  <  train  <  jobs  <  cli
 *
 * A folder may import its own layer's siblings and any layer below it, never one above: so no folder cycle
 * can come back, the library never loads the CLI, and the job service is a shell over lib/train like the CLI.
 * Type-only imports count everywhere. Within lib/core no module cycle is allowed either (see no-circular-in-core;
 * docs/conventions.md draws the order). `npm run lint:deps` runs these rules; .ci/run runs it before the tests.
 */
const LAYERS = [['kernels'], ['core'], ['ops'], ['nn', 'optim', 'data', 'io', 'report'], ['train'], ['jobs'], ['cli']];

const above = (i) => LAYERS.slice(i + 1).flat();

const upward = LAYERS.flatMap((folders, i) =>
  i === LAYERS.length - 1
    ? []
    : [
        {
          name: `no-upward-from-${folders.join('-')}`,
          comment: `lib/{${folders.join(',')}} must not import the layers above it (${above(i).join(', ')})`,
          severity: 'error',
          from: { path: `^lib/(${folders.join('|')})/` },
          // Type-only imports count too: kernels name their array types from their own leaf module
          // (lib/kernels/dtype.ts), which core/ndarray re-exports.
          to: { path: `^lib/(${above(i).join('|')})/` },
        },
      ],
);

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular-between-folders',
      comment: 'a cycle of imports that leaves a folder and comes back to it (type-only imports count)',
      severity: 'error',
      from: { path: '^lib/([^/]+)/' },
      to: { circular: true, via: { pathNot: '^lib/$1/' } },
    },
    {
      name: 'no-circular-in-core',
      comment:
        'lib/core imports in one direction (ndarray < op-node < tensor-node < op < gradcheck): no cycle among its ' +
        'modules, type-only imports included (a TensorNode names its OpNode, an OpNode is generic in its nodes)',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { circular: true, viaOnly: { path: '^lib/core/' } },
    },
    {
      name: 'no-cli-dependencies-in-the-library',
      comment: 'cli-progress and commander belong to the command line only',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/cli/' },
      to: { path: 'node_modules/(cli-progress|commander)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|build|node_modules)/' },
  },
};
