// oidc-provider (test-only devDependency) ships no type declarations; the test uses its
// documented constructor, callback() and findAccount only.
declare module 'oidc-provider' {
  const Provider: new (issuer: string, configuration: Record<string, unknown>) => { callback(): (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void };
  export default Provider;
}
