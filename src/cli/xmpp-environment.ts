/**
 * XMPP wiring for a send environment, shared by xmpp-send and `send --protocol xmpp`: one
 * connector (one XMPP session per invocation, used by the contact guard's roster fetch and by the
 * delivery), the transport, the contact guard, the configuration preflight, and remembering a
 * contact once a first message to it was confirmed and delivered.
 */
import { dirname, join } from 'node:path';
import { auditPath } from '../audit/log.ts';
import { loadPolicy } from '../config/load.ts';
import { contactKey, rememberedFrom, xmppContactGuard } from '../guards/xmpp-contacts.ts';
import { systemLookup } from '../network/resolve.ts';
import type { SendEnvironment } from '../pipeline/send.ts';
import { StateStore } from '../state/store.ts';
import { createXmppTransport, XmppConnector } from '../transports/xmpp.ts';
import { xmppPreflight } from '../transports/xmpp-credentials.ts';

export interface XmppWiring {
  environment: SendEnvironment;
  connector: XmppConnector;
  /** Close the invocation's XMPP session cleanly (always call it, also after a failure). */
  close(): Promise<void>;
}

export function withXmpp(environment: SendEnvironment, options: { trace?: (line: string) => void; dryRun?: boolean } = {}): XmppWiring {
  const connector = new XmppConnector(options.trace ? { trace: options.trace } : {});
  const { store } = environment;
  const transport = createXmppTransport(connector, {
    async onDelivered(attempt) {
      const bare = attempt.target.jid?.bare;
      if (!bare) return;
      const at = environment.deps.now().toISOString();
      await store.transaction(['contacts'], (state) => {
        if (!state.contacts.confirmed[contactKey(bare)]) state.contacts.confirmed[contactKey(bare)] = at;
      });
    },
  });
  const guard = xmppContactGuard({ connector, remembered: () => rememberedFrom(store.read('contacts')), env: environment.env, preconnect: !options.dryRun });
  return {
    connector,
    environment: {
      ...environment,
      transports: { ...environment.transports, xmpp: transport },
      preflight: { ...environment.preflight, xmpp: xmppPreflight },
      extraGuards: [...(environment.extraGuards ?? []), guard],
    },
    close: () => connector.close(),
  };
}

/**
 * The environment of an xmpp-send run: the same parts as src/cli/environment.ts (policy search
 * order, state directory, audit path, system DNS, the approve command next to the script) without
 * the HTTP and e-mail transports. Keeping undici and nodemailer out of the xmpp-send bundle halves
 * what Node has to compile at start-up (measured: bench/xmpp-send.ts).
 */
export function buildXmppEnvironment(options: { policyFile?: string | undefined }): SendEnvironment {
  const { policy } = loadPolicy({ flag: options.policyFile });
  const store = new StateStore();
  const script = process.argv[1];
  const dir = script ? dirname(script) : '.';
  const approve = script?.endsWith('.ts') ? `npx tsx ${join(dir, 'approve.ts')}` : `node "${join(dir, 'approve.mjs')}"`;
  return {
    policy,
    store,
    auditPath: auditPath(policy, store.dir),
    deps: { lookup: systemLookup, overrides: new Map(), now: () => new Date() },
    transports: {},
    triggeredBy: process.env.CLAUDECODE ? 'claude-code' : 'cli',
    sessionId: process.env.CLAUDE_SESSION_ID ?? null,
    approveCommand: (id) => `${approve} approve ${id}`,
    env: process.env,
  };
}
