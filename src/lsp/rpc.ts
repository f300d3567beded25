// JSON-RPC 2.0 over the Language Server Protocol's base protocol: `Content-Length: n\r\n\r\n` then n bytes of JSON.
// Written here instead of depending on vscode-jsonrpc: the framing is a few dozen lines, and the server then adds
// no package to netc's install (the shared node_modules of the build stays as it is).
import type { Readable, Writable } from "node:stream";

export interface RpcMessage {
  jsonrpc: "2.0";
  id?: number | string | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

/** JSON-RPC error codes the server answers with. */
export const RpcErrors = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InternalError: -32603,
  ServerNotInitialized: -32002,
} as const;

/** Splits a byte stream into messages; one instance per stream. */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onMessage: (m: RpcMessage | undefined, raw: string) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const header = this.buffer.subarray(0, headerEnd).toString("ascii");
      const length = /content-length:\s*(\d+)/i.exec(header);
      if (!length) {
        // A header without a length cannot be framed: drop it, the next header starts a message.
        this.buffer = this.buffer.subarray(headerEnd + 4);
        continue;
      }
      const start = headerEnd + 4;
      const end = start + Number(length[1]);
      if (this.buffer.length < end) return;
      const raw = this.buffer.subarray(start, end).toString("utf8");
      this.buffer = this.buffer.subarray(end);
      let message: RpcMessage | undefined;
      try {
        message = JSON.parse(raw) as RpcMessage;
      } catch {
        message = undefined;
      }
      this.onMessage(message, raw);
    }
  }
}

export function frame(message: RpcMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message), "utf8");
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
}

export type RequestHandler = (params: unknown) => unknown;
export type NotificationHandler = (params: unknown) => void;

/** One end of a connection: handles requests and notifications, sends notifications and requests. */
export class Connection {
  private readonly requests = new Map<string, RequestHandler>();
  private readonly notifications = new Map<string, NotificationHandler>();
  private readonly pending = new Map<number | string, (m: RpcMessage) => void>();
  /** Told of a notification whose handler threw (the server logs it to the client). */
  onNotificationError?: (method: string, error: unknown) => void;
  private nextId = 1;

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    const reader = new FrameReader((m) => this.dispatch(m));
    input.on("data", (chunk: Buffer) => reader.push(chunk));
  }

  /** `P` is what the protocol says the method's params are; they are not validated here. */
  onRequest<P>(method: string, handler: (params: P) => unknown): void {
    this.requests.set(method, handler as RequestHandler);
  }

  onNotification<P>(method: string, handler: (params: P) => void): void {
    this.notifications.set(method, handler as NotificationHandler);
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    // Waiting before sending: over an in-process stream the answer can arrive during the write.
    const answer = new Promise((resolve, reject) => {
      this.pending.set(id, (m) =>
        m.error ? reject(new Error(`${m.error.code}: ${m.error.message}`)) : resolve(m.result),
      );
    });
    this.send({ jsonrpc: "2.0", id, method, params });
    return answer;
  }

  private send(m: RpcMessage): void {
    this.output.write(frame(m));
  }

  private dispatch(m: RpcMessage | undefined): void {
    if (m === undefined) {
      this.send({
        jsonrpc: "2.0",
        id: null,
        error: { code: RpcErrors.ParseError, message: "the message is not JSON" },
      });
      return;
    }
    if (
      typeof m !== "object" ||
      m === null ||
      Array.isArray(m) ||
      (m.method !== undefined && typeof m.method !== "string")
    ) {
      this.send({
        jsonrpc: "2.0",
        id: null,
        error: { code: RpcErrors.InvalidRequest, message: "a message is an object with a string method or a result" },
      });
      return;
    }
    if (m.method === undefined) {
      // A response to a request of ours.
      if (m.id !== undefined && m.id !== null) this.pending.get(m.id)?.(m);
      if (m.id !== undefined && m.id !== null) this.pending.delete(m.id);
      return;
    }
    if (m.id === undefined || m.id === null) {
      // A notification has no answer: one whose handler fails (malformed params) is dropped, the server goes on.
      try {
        this.notifications.get(m.method)?.(m.params);
      } catch (e) {
        this.onNotificationError?.(m.method, e);
      }
      return;
    }
    const id = m.id;
    const handler = this.requests.get(m.method);
    if (!handler) {
      this.send({
        jsonrpc: "2.0",
        id,
        error: { code: RpcErrors.MethodNotFound, message: `no handler for ${m.method}` },
      });
      return;
    }
    // Answered in order: a handler that returns a plain value is answered before the next message is read, so a
    // `shutdown` is acknowledged before the `exit` that follows it.
    const fail = (e: unknown) =>
      this.send({
        jsonrpc: "2.0",
        id,
        error: { code: RpcErrors.InternalError, message: e instanceof Error ? e.message : String(e) },
      });
    let result: unknown;
    try {
      result = handler(m.params);
    } catch (e) {
      fail(e);
      return;
    }
    if (result instanceof Promise) result.then((r) => this.send({ jsonrpc: "2.0", id, result: r ?? null }), fail);
    else this.send({ jsonrpc: "2.0", id, result: result ?? null });
  }
}
