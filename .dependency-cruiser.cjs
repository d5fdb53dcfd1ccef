/**
 * The layer rules, checked in CI (`npm run check:layers`, from .ci/run). What may import what:
 *
 *   shared/src/core   domain, ports, events, use cases: AWS-free; imports only itself and the protocol
 *   shared/src/aws    SDK clients, adapters, observability, env config: may import core
 *   db/src            one module per table: may import core
 *   api/src, workflows/src   handlers and each deployable's composition root: may import all of the above
 *   shared/src/protocol   the wire protocol (frame schemas and types): may import core's domain and zod
 *   client/, front/   the terminal client, the browser app and their UI-free core: only the protocol
 *   local/, tests/, bench/   tooling around the product: nothing in production code imports them
 *
 * and no import cycle anywhere. Type-only imports count: a type that points the wrong way is a
 * dependency pointing the wrong way.
 */
const production = '^(shared|db|api|workflows|client|front)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-aws-free',
      severity: 'error',
      comment:
        'shared/src/core (and the protocol frames it uses) holds domain, ports, events and use cases: ' +
        'no AWS SDK, no Powertools, no adapters, tables, deployables or tooling.',
      from: { path: '^shared/src/(core|domain|protocol)/' },
      to: {
        path: [
          '^shared/src/aws/',
          '^(db|api|workflows|local|tests|bench|client|front)/',
          'node_modules/@aws-sdk/',
          'node_modules/@smithy/',
          'node_modules/@aws-lambda-powertools/',
          'node_modules/aws-xray-sdk',
          'node_modules/aws-lambda/',
        ],
      },
    },
    {
      name: 'aws-adapters-below-tables-and-deployables',
      severity: 'error',
      comment:
        'shared/src/aws is imported by the composition roots; it must not reach up into db/ or a deployable ' +
        '(shared/src/wiring.ts used to, and made every function bundle every store).',
      from: { path: '^shared/src/aws/' },
      to: { path: '^(db|api|workflows|local|tests|bench|client|front)/' },
    },
    {
      name: 'db-below-deployables',
      severity: 'error',
      comment: 'db/ implements the core ports; the deployables compose it, never the other way round.',
      from: { path: '^db/' },
      to: { path: '^(api|workflows|local|tests|bench|client|front)/' },
    },
    {
      name: 'deployables-independent',
      severity: 'error',
      comment: 'api/ and workflows/ are deployed separately; what they share lives in shared/ or db/.',
      from: { path: '^(api|workflows)/' },
      to: { path: '^(api|workflows)/', pathNot: '^$1/' },
    },
    {
      name: 'clients-speak-only-the-protocol',
      severity: 'error',
      comment:
        'The browser app and the terminal client know the server only through the protocol module ' +
        '(#protocol/*) and the shared client core (#client-core/*), never through its code or tables.',
      from: { path: '^(client|front)/' },
      to: { path: '^(shared/src/(core|aws)|db|api|workflows)/' },
    },
    {
      name: 'no-tooling-in-production',
      severity: 'error',
      comment: 'local/ (the local stack), tests/ and bench/ are tooling: production code never imports them.',
      from: { path: production },
      to: { path: '^(local|tests|bench)/' },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment: 'Every import must resolve, or the rules above could not see where it points (e.g. a #subpath typo).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle makes load order matter and the layers meaningless.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^front/dist/', '^\\.aws-sam/', '^tests/fixtures/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
