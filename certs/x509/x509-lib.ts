// @peculiar/x509 2.x resolves its algorithm providers through tsyringe, which needs a Reflect metadata polyfill
// loaded before it. Every module here reaches the library through this file, so the order holds.
import 'reflect-metadata';

export * as x509 from '@peculiar/x509';
