/**
 * The small part of the @xmpp/* (xmpp.js 0.14) API the XMPP transport builds on. The packages ship
 * JavaScript only; these declarations cover exactly what src/transports/xmpp-session.ts uses.
 */
declare module '@xmpp/xml' {
  export class Element {
    constructor(name: string, attrs?: Record<string, string | number | null | undefined>);
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<Element | string>;
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    append(...children: Array<Element | string>): Element;
    toString(): string;
  }
  export type XmlChild = Element | string | null | undefined | false | XmlChild[];
  function xml(name: string, attrs?: Record<string, string | number | null | undefined> | null, ...children: XmlChild[]): Element;
  export default xml;
  export { xml };
}

declare module '@xmpp/connection-tcp' {
  import type { EventEmitter } from 'node:events';
  import type { Element } from '@xmpp/xml';

  export default class ConnectionTCP extends EventEmitter {
    constructor(options?: { domain?: string; lang?: string; timeout?: number; service?: string });
    NS: string;
    Socket: new () => unknown;
    Parser: new () => EventEmitter & { write(data: string): void };
    options: { domain?: string; lang?: string; timeout?: number };
    timeout: number;
    status: string;
    socket: (EventEmitter & { secure?: boolean; end(): void; destroy?(error?: Error): void; write(data: string, cb?: (error?: Error) => void): void }) | null;
    parser: (EventEmitter & { write(data: string): void }) | null;
    root: Element | null;
    connect(service: string): Promise<void>;
    open(options: { domain: string; lang?: string }): Promise<Element>;
    restart(): Promise<Element>;
    send(element: Element): Promise<void>;
    sendMany(elements: Element[]): Promise<void>;
    write(data: string): Promise<void>;
    disconnect(): Promise<Element | undefined>;
    stop(): Promise<Element | undefined>;
    isSecure(): boolean;
    socketParameters(service: string): unknown;
    headerElement(): Element;
    header(element: Element): string;
    footer(element?: Element): string;
    _onData(data: Buffer | string): void;
    _attachSocket(socket: unknown): void;
    _detachSocket(): void;
    _status(status: string, ...args: unknown[]): void;
  }
}

declare module '@xmpp/tls/lib/Socket.js' {
  import type { EventEmitter } from 'node:events';
  import type { TLSSocket, ConnectionOptions } from 'node:tls';

  export default class Socket extends EventEmitter {
    secure: true;
    socket: TLSSocket | null;
    connect(options: ConnectionOptions): void;
    end(): void;
    write(data: string, cb?: (error?: Error) => void): void;
  }
}

declare module 'sasl-scram-sha-1/lib/bitops.js' {
  export function Hi(text: string, salt: Uint8Array, iterations: number): Promise<Uint8Array>;
}
