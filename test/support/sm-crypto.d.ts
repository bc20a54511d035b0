// sm-crypto (a pure-JavaScript SM2/SM3/SM4 implementation) ships no types; the tests use it only to cross-check.
declare module 'sm-crypto' {
  const smCrypto: unknown;
  export default smCrypto;
}
