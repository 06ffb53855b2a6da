import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";

/**
 * AWS's public hosts, served locally over real TLS: a throwaway CA (made with the openssl CLI),
 * a certificate for the hosts a test expects the SDK to resolve, and a TLS front on 127.0.0.1 that
 * hands the decrypted stream to the test world. With the proxy's CONNECT sent to that front, the
 * pipe talks to `sts.<region>.<suffix>` as it would on a runner, and the test sees which host it chose.
 */
export interface Certificates {
  /** PEM file of the CA: what NODE_EXTRA_CA_CERTS points to. */
  caFile: string;
  key: string;
  cert: string;
  remove(): void;
}

export function makeCertificates(hosts: readonly string[]): Certificates {
  const dir = mkdtempSync(path.join(tmpdir(), "bbtls-"));
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=bitbucket-aws-oidc test CA",
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "leaf.key",
    "-out",
    "leaf.csr",
    "-subj",
    "/CN=aws",
  );
  writeFileSync(at("ext"), `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(",")}\n`);
  openssl(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "leaf.pem",
    "-days",
    "2",
    "-extfile",
    "ext",
  );
  return {
    caFile: at("ca.pem"),
    key: readFileSync(at("leaf.key"), "utf8"),
    cert: readFileSync(at("leaf.pem"), "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsFront {
  port: number;
  /** The SNI names the clients asked for, in order. */
  serverNames: string[];
  close(): Promise<void>;
}

/** Terminates TLS with `certificates` and pipes each connection to 127.0.0.1:`targetPort`. */
export async function startTlsFront(certificates: Certificates, targetPort: number): Promise<TlsFront> {
  const serverNames: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: certificates.key, cert: certificates.cert }, (socket) => {
    serverNames.push((socket as tls.TLSSocket & { servername?: string }).servername ?? "");
    const upstream = net.connect(targetPort, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on("error", end);
    upstream.on("error", end);
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A client that refuses the certificate ends the handshake: not the front's failure.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    serverNames,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
