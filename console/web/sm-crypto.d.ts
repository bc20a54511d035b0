// The part of sm-crypto (https://github.com/JuneAndGreen/sm-crypto, pure JS SM2/SM3/SM4) the console uses.
declare module 'sm-crypto' {
  interface Sm2SignOptions {
    der?: boolean;
    hash?: boolean;
    publicKey?: string;
    userId?: string;
  }
  const smCrypto: {
    sm2: {
      doSignature(msg: string | ArrayLike<number>, privateKeyHex: string, options?: Sm2SignOptions): string;
      doVerifySignature(msg: string | ArrayLike<number>, signatureHex: string, publicKeyHex: string, options?: Sm2SignOptions): boolean;
      getPublicKeyFromPrivateKey(privateKeyHex: string): string;
    };
    sm3(input: string | ArrayLike<number>): string;
  };
  export default smCrypto;
}
