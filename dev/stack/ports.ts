import net from "node:net";

/** Resolves when `port` can be bound on 127.0.0.1, rejects with a message that says what to do. */
export async function assertPortFree(port: number, service: string, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      const why = error.code === "EADDRINUSE" ? "is already in use" : `cannot be used (${error.code})`;
      reject(
        new Error(
          `Port ${port} for ${service} ${why}. Stop whatever holds it, or choose another port: ${variable}=<port> npm run dev`,
        ),
      );
    });
    probe.listen({ port, host: "127.0.0.1", exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** A port the OS says is free right now (for throwaway stacks in tests and benchmarks). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen({ port: 0, host: "127.0.0.1" }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
