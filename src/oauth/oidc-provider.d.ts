// oidc-provider ships no type declarations; oidc-types.ts describes the part of it that this service uses.
declare module 'oidc-provider';
