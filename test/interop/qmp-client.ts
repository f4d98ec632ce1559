/** A small QMP client: one command at a time, answers matched in order, events ignored. */
import { connect, type Socket } from 'node:net';

export class QmpClient {
  private buffer = '';
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private greeted!: Promise<void>;

  private constructor(private readonly socket: Socket) {}

  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const client = new QmpClient(socket);
        client.start();
        await client.greeted;
        await client.execute('qmp_capabilities');
        return client;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private start(): void {
    let greet!: () => void;
    this.greeted = new Promise((r) => (greet = r));
    this.socket.on('data', (chunk) => {
      this.buffer += chunk.toString();
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        const message = JSON.parse(line) as {
          QMP?: unknown;
          return?: unknown;
          error?: { desc: string };
          event?: string;
        };
        if (message.QMP) greet();
        else if (message.event) continue;
        else if (message.error) this.waiting.shift()?.reject(new Error(message.error.desc));
        else if ('return' in message) this.waiting.shift()?.resolve(message.return);
      }
    });
    const fail = () => {
      for (const w of this.waiting.splice(0)) w.reject(new Error('QMP connection closed'));
    };
    this.socket.on('close', fail);
    this.socket.on('error', fail);
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
