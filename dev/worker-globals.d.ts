// The Worker's settings module (worker/src/config.ts), which the deploy tooling reads for the
// settings and their documentation, names two globals of the Workers runtime in signatures the
// tooling never calls. These stand-ins let it type-check under Node's types; the runtime's own
// declarations (worker-configuration.d.ts) would clash with Node's.
type Env = object;
type R2Bucket = object;
