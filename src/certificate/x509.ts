// The one way into @peculiar/x509. Its dependency injection (tsyringe) needs the Reflect metadata
// polyfill loaded before it, and ES modules evaluate in import order, so the polyfill comes first
// here and no other module may import @peculiar/x509 directly.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Cast through its own parameter type: with the DOM library in the program (preact's JSX types
// bring it, for src/minprofil/'s templates) Node's Crypto and the DOM's differ in their overloads.
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
