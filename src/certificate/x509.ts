// The one way into @peculiar/x509. Its dependency injection (tsyringe) needs the Reflect metadata
// polyfill loaded before it, and ES modules evaluate in import order, so the polyfill comes first
// here and no other module may import @peculiar/x509 directly.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
