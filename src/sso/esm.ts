import type * as OpenIdClient from 'openid-client';

/**
 * openid-client 6 is published as ESM only. The service is CommonJS, and TypeScript turns a plain
 * `import()` into `require()`, so the import is written where the compiler cannot see it: a real dynamic
 * import, evaluated on the first sign-in, never when the module graph loads. The built service (Node 20.19+)
 * loads it; Jest's CommonJS runtime refuses a dynamic import outright ("You need to run with a version of
 * node that supports ES Modules in the VM API"), which is why the SSO suites start `dist/main.js`. Nothing
 * else in the graph depends on it, so every other suite loads AppModule in-process as before.
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let openIdClientModule: Promise<typeof OpenIdClient> | undefined;

export type OpenIdClientLib = typeof OpenIdClient;

export function openIdClient(): Promise<OpenIdClientLib> {
  openIdClientModule ??= dynamicImport('openid-client') as Promise<OpenIdClientLib>;
  return openIdClientModule;
}
