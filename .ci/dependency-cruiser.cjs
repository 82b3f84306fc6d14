/** The folders are the data flow: transport → ingest → pipeline → {storage, rules → notify}. */
module.exports = {
  forbidden: [
    {
      name: 'only-transport-imports-uws',
      comment: 'uWebSockets.js stays behind src/transport (STYLE.md 2).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/transport/' },
      to: { path: 'uWebSockets\\.js|uws-js-unofficial' },
    },
    {
      name: 'only-cluster-and-state-import-ioredis',
      comment:
        'Redis stays behind src/cluster, the Redis StateStore and the Redis implementations ' +
        'of storage and limits interfaces (src/{storage,limits}/redis-*.ts); the rest sees interfaces.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: '^src/(cluster|state)/|^src/(storage|limits)/redis-[^/]*\\.ts$',
      },
      to: { path: 'node_modules/ioredis/' },
    },
    {
      name: 'inner-layers-do-not-know-transport',
      severity: 'error',
      from: { path: '^src/(ingest|pipeline|storage|rules|notify|config|ops)/' },
      to: { path: '^src/transport/' },
    },
    {
      name: 'storage-does-not-know-ingest',
      severity: 'error',
      from: { path: '^src/storage/' },
      to: { path: '^src/(ingest|pipeline|rules|notify)/' },
    },
    {
      name: 'browser-code-knows-no-server',
      comment:
        'src/client ships to browsers and src/dashboard is a page: neither imports server code, ' +
        'uWebSockets.js or the Node-only `ws` (a Node user injects it).',
      severity: 'error',
      from: { path: '^src/(client|dashboard)/' },
      to: {
        path: '^src/(?!client/|dashboard/)|uWebSockets\\.js|uws-js-unofficial|node_modules/ws/',
      },
    },
    {
      name: 'browser-code-uses-no-node-builtins',
      severity: 'error',
      from: { path: '^src/(client|dashboard)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
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
