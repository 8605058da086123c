/**
 * What `net.isIP` answers, without Node: the configuration schema also runs in the
 * browser (the Configurator validates there with the same code as the CLI).
 */
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/** 4 for an IPv4 address, 6 for an IPv6 one, 0 otherwise. */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return 0;
  try {
    // The WHATWG URL parser implements the IPv6 address grammar (with embedded IPv4).
    new URL(`http://[${text}]/`);
    return 6;
  } catch {
    return 0;
  }
}
