/**
 * A use case's arguments without its trailing `deps`: what the version a composition root binds to
 * its adapters takes. Use cases are plain `(…inputs, deps)` functions.
 */
export type InputsOf<UseCase> = UseCase extends (...args: [...infer Inputs, infer _Deps]) => unknown ? Inputs : never;
