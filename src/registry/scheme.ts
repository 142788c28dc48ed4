/**
 * Which registries we speak plain HTTP to: loopback ones (a registry on this machine is never
 * behind TLS in practice, as containerd and Docker assume) and those the user lists as insecure,
 * by host or host:port.
 */
export function usesPlainHttp(host: string, insecure: readonly string[]): boolean {
  const hostname = new URL(`http://${host}`).hostname;
  if (insecure.includes(host) || insecure.includes(hostname)) return true;
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
