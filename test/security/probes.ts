/** A plain-TCP client that sends CONNECT without TLS: what the server answers (or that it closed). */
import { connect as tcpConnect } from 'node:net';

export const RawTlsProbe = {
  plainConnect(port: number): Promise<string> {
    return new Promise((resolve) => {
      const s = tcpConnect({ host: '127.0.0.1', port });
      let text = '';
      let sent = false;
      const done = (v: string) => {
        s.destroy();
        resolve(v);
      };
      s.setTimeout(5000, () => done(`timeout: ${text}`));
      s.on('data', (d) => {
        text += d.toString('latin1');
        if (!sent && text.includes('\r\n')) {
          sent = true;
          s.write('CONNECT {"verbose":false,"user":"payments-service","pass":"x"}\r\nPING\r\n');
        }
        if (/-ERR[^\r]*\r\n/.test(text)) done(/-ERR[^\r]*/.exec(text)![0]);
      });
      s.on('close', () => done(`closed: ${text.split('\r\n').slice(1).join(' ')}`));
      s.on('error', () => done(`closed: ${text}`));
    });
  },
};
