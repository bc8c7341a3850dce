// Modules every workflow would otherwise initialise for itself. The SDK's reusable V8 context gives
// each workflow its own instance of every module it imports (so no state leaks between
// workflows), except the modules loaded once when the context starts (BundleOptions
// preloadModules, which lists this file): those all workflows share, deep-frozen. So only
// stateless modules belong here. The tracing interceptors' OpenTelemetry semantic conventions are
// thousands of constants: shared, they cost a workflow nothing when it is created or replayed
// (README "Worker CPU"). The rest of OpenTelemetry cannot be shared: its API registers itself on
// its (frozen) singletons, and its core reads the `performance` global the interceptors install
// per workflow.
// Imported and exported rather than named in preloadModules: the package declares no side
// effects, so webpack drops a `require` of it whose result is unused.
import * as semanticConventions from '@opentelemetry/semantic-conventions';

export const sharedModules = [semanticConventions];
