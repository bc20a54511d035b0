export * from './sm2/sm2.js';
