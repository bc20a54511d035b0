export * from './sm2/sm2.js';
export * from './sm2/diagnose.js';
export * from './x509/index.js';
export * from './signer/index.js';
export * from './envelope/index.js';
