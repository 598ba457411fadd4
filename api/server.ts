import type { Server } from 'node:http';
import type { Express } from 'express';

/**
 * Listens, and answers requests Node's HTTP parser refuses (headers or URL too large, malformed
 * request line) with a JSON error body like every other error, instead of an empty response.
 */
export function listen(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((ok) => {
    const server = app.listen(port, host, () => ok(server));
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const [status, text] =
        err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
      const body = JSON.stringify({ status, error: text });
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
  });
}
