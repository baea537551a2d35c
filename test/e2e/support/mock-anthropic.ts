/**
 * A local stand-in for the Anthropic Messages API, enough for the real `claude` CLI to run a
 * scripted conversation offline: POST /v1/messages (SSE streaming and plain JSON), count_tokens,
 * and a 404 JSON error for anything else (logged, so new startup calls are easy to spot).
 *
 * The script: the main agent request (one that offers tools) is answered with the next scripted
 * tool_use whenever the conversation's tool results so far number fewer than the steps; after the
 * last step it answers with text that quotes the last tool_result, so a test can also read what
 * the model saw. Requests without tools (titles, summaries) get a short text answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptStep {
  tool: string;
  input: Record<string, unknown>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface MockAnthropic {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** The tool_result blocks the model received, in order (content flattened to text). */
  toolResults(): Array<{ tool_use_id: string; is_error: boolean; text: string }>;
  close(): Promise<void>;
}

interface Message {
  role: string;
  content: string | Array<Record<string, unknown>>;
}

const MODEL = 'claude-sonnet-4-5-20250929';

export async function startMockAnthropic(steps: ScriptStep[], options: { host?: string; log?: (line: string) => void } = {}): Promise<MockAnthropic> {
  const requests: RecordedRequest[] = [];
  let counter = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown = null;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push({ method: req.method ?? 'GET', path, body });
      options.log?.(`${req.method} ${req.url}`);
      try {
        route(req, res, path, body);
      } catch (error) {
        json(res, 500, { type: 'error', error: { type: 'api_error', message: String(error) } });
      }
    });
  });

  function route(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      json(res, 200, { input_tokens: 100 });
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      const request = body as { stream?: boolean; tools?: unknown[]; messages?: Message[] };
      const reply = plan(request);
      counter++;
      const id = `msg_mock_${counter}`;
      if (request.stream) sse(res, id, reply);
      else json(res, 200, messageJson(id, reply));
      return;
    }
    json(res, 404, { type: 'error', error: { type: 'not_found_error', message: `mock: no route for ${req.method} ${path}` } });
  }

  function plan(request: { tools?: unknown[]; messages?: Message[] }): Reply {
    const messages = request.messages ?? [];
    const hasTools = Array.isArray(request.tools) && request.tools.length > 0;
    if (!hasTools) return { kind: 'text', text: 'Mock title' };
    const results = toolResultsIn(messages);
    if (results.length < steps.length) {
      const step = steps[results.length]!;
      return { kind: 'tool_use', id: `toolu_mock_${String(results.length + 1).padStart(2, '0')}`, name: step.tool, input: step.input };
    }
    const last = results[results.length - 1];
    return { kind: 'text', text: last ? `MOCK_DONE tool_result(is_error=${last.is_error}): ${last.text}` : 'MOCK_DONE (no tool results)' };
  }

  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    toolResults() {
      // The longest conversation seen holds every result.
      let best: ReturnType<typeof toolResultsIn> = [];
      for (const request of requests) {
        const messages = (request.body as { messages?: Message[] } | null)?.messages;
        if (!messages) continue;
        const found = toolResultsIn(messages);
        if (found.length > best.length) best = found;
      }
      return best;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

type Reply = { kind: 'text'; text: string } | { kind: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function toolResultsIn(messages: Message[]): Array<{ tool_use_id: string; is_error: boolean; text: string }> {
  const out: Array<{ tool_use_id: string; is_error: boolean; text: string }> = [];
  for (const message of messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const block of message.content) {
      if (block.type !== 'tool_result') continue;
      const content = block.content;
      const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((part: { text?: string }) => part.text ?? '').join('\n') : '';
      out.push({ tool_use_id: String(block.tool_use_id), is_error: block.is_error === true, text });
    }
  }
  return out;
}

function usage() {
  return { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

function messageJson(id: string, reply: Reply) {
  const content = reply.kind === 'text' ? [{ type: 'text', text: reply.text }] : [{ type: 'tool_use', id: reply.id, name: reply.name, input: reply.input }];
  return { id, type: 'message', role: 'assistant', model: MODEL, content, stop_reason: reply.kind === 'text' ? 'end_turn' : 'tool_use', stop_sequence: null, usage: usage() };
}

function sse(res: ServerResponse, id: string, reply: Reply): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': `req_${id}` });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage(), output_tokens: 1 } } });
  if (reply.kind === 'text') {
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: reply.text } });
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } });
  } else {
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: reply.id, name: reply.name, input: {} } });
    const input = JSON.stringify(reply.input);
    // Split the JSON like the real API does, to exercise the client's accumulation.
    const half = Math.floor(input.length / 2);
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: input.slice(0, half) } });
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: input.slice(half) } });
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 20 } });
  }
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'request-id': 'req_mock' });
  res.end(body);
}
