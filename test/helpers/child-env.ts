import { childEnvironment } from "../../platform/config/child-env.js";

/** The children's environment the CLI builds, for tests that wire a node's parts by hand. */
export const testChildEnv = childEnvironment(process.env, []);
