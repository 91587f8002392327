// The layer rules (docs/architecture.md), checked in CI by `npm run lint:deps`. Each entry of
// LAYERS may import the layers before it and its own; nothing imports upwards, and nothing at all
// has a cycle. Tests (`*.test.ts`) follow the layers too, and may also use test/ and demo/;
// production code never imports test code. The pure layers do no I/O: no file, network, process or
// database module.
const LAYERS = [
  ['errors'],
  ['identifier', 'time', 'files', 'certificate'],
  ['person', 'freshness', 'access'],
  ['answer'],
  ['store'],
  ['register'],
  ['config', 'http', 'auth'],
  [
    'audit',
    'provider',
    'signing',
    'client',
    'health',
    'lookup',
    'changes',
    'self',
    'mailbox',
    'transfer',
    'sync',
    'testdata',
    'outbox',
    'profile',
    'jobs',
    'metrics',
  ],
  ['maskinporten', 'idporten', 'demo', 'minprofil'],
  ['app'],
  ['cli'],
];
const PURE = ['errors', 'identifier', 'time', 'person', 'freshness', 'access', 'answer'];
const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'dgram',
  'child_process',
  'cluster',
  'worker_threads',
  'readline',
  'tls',
  'dns',
].flatMap((m) => [`^${m}$`, `^node:${m}$`]);
const PACKAGES_WITH_IO = ['^postgres$', '^@electric-sql/pglite', '^fastify', '^@fastify/', '^pino'];
const production = '^src/.*(?<!\\.test)\\.tsx?$';

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  if (above.length === 0) return [];
  return [
    {
      name: `layer-${layer.join('-')}`,
      comment: `${layer.join(', ')} may not import a higher layer (${above.join(', ')})`,
      severity: 'error',
      from: { path: `^src/(${layer.join('|')})/` },
      to: { path: `^src/(${above.join('|')})/` },
    },
  ];
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'production-imports-no-test-code',
      severity: 'error',
      from: { path: production },
      to: { path: ['^test/', '^bench/', '\\.test\\.ts$'] },
    },
    {
      name: 'krr-client-stands-alone',
      comment:
        'the client library (packages/krr-client, its own package) imports only its own files, node: modules and jose: nothing of src/ or test/',
      severity: 'error',
      from: { path: '^packages/krr-client/src/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypesNot: ['core'], pathNot: ['^packages/krr-client/src/', '^node_modules/jose/'] },
    },
    {
      name: 'no-unknown-folder',
      comment: 'every folder under src/ has its place in LAYERS',
      severity: 'error',
      from: { path: production },
      to: { path: '^src/', pathNot: `^src/(${LAYERS.flat().join('|')})/` },
    },
    {
      name: 'pure-rules-do-no-io',
      severity: 'error',
      from: { path: `^src/(${PURE.join('|')})/`, pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core', 'npm', 'npm-dev'], path: [...IO_MODULES, ...PACKAGES_WITH_IO] },
    },
    ...layerRules.map((r) => ({ ...r, from: { ...r.from, pathNot: '\\.test\\.ts$' } })),
    // Tests follow the layers too, except that any test may use the demo data and generators
    // (synthetic persons, demo certificates) and the shared support in test/.
    ...layerRules.map((r) => ({
      ...r,
      name: `${r.name}-in-tests`,
      from: { ...r.from, pathNot: undefined, path: `${r.from.path}.*\\.test\\.ts$` },
      to: { ...r.to, pathNot: '^src/demo/' },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
