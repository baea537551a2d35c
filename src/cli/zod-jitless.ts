/**
 * Imported first by short-lived CLIs: zod's JIT compiles a fast parser (new Function) for each
 * object schema on its first parse, which pays off only for schemas parsed many times. A CLI run
 * parses each schema once or twice; the compilation alone cost ~10 ms of every xmpp-send run
 * (bench/xmpp-send.ts). Must run before any schema is constructed (zod reads it at construction).
 */
import { z } from 'zod';

z.config({ jitless: true });
