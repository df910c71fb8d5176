// The package's entry: the generated operations and types (src/, by @hey-api/openapi-ts) and
// the fetch client to call them with.
export * from './src';
export { createClient, createConfig } from './src/client';
export type { Client, Config } from './src/client';
