// `node --import ./module-trace.mjs ...`: registers module-trace-hooks.mjs (Node 20.6+).
import { register } from 'node:module';
register(new URL('./module-trace-hooks.mjs', import.meta.url));
