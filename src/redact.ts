/**
 * Any scheme://credentials@ in a text, the credentials replaced: up to the last '@' of the
 * authority, since clients accept a raw '@' in a password (redis://default:p@ss@host:6379).
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/\s]*@/g, '$1[redacted]@');
}
