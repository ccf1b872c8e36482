/**
 * The process's environment: read here once, by the composition root (cli/labx.ts), and handed down
 * as a frozen copy. Nothing else reads process.env (lint refuses it): configuration comes from
 * config.ts, children's environments from child-env.ts, both given this copy.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

export function processEnvironment(): Environment {
  return Object.freeze({ ...process.env });
}

/**
 * What libraries read from the environment themselves, set once at start: the AWS SDK is pinned
 * (package.json) to a release that supports Node.js 20, and its notice that later releases will not
 * would otherwise go to stderr at every start of a node that uploads.
 */
export function quietLibraries(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
