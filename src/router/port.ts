/**
 * The slice of the RouterOS API labgate uses: the dst-nat rules of `/ip/firewall/nat`.
 * Property names are RouterOS's own (`dst-port`, `to-addresses`) and every value is the
 * string the router printed or is given, exactly: nothing is converted or guessed.
 */
export interface NatRule {
  /** Internal id, `*` + hex (`*1A`). Not stable across a router reset; labgate finds its rules by comment. */
  id: string;
  fields: Record<string, string>;
}

export interface RouterPort {
  /** Every rule of the dstnat chain, in router order. */
  dstNatRules(): Promise<NatRule[]>;
  /** The rules carrying exactly this comment (labgate's identity for a rule). */
  natRulesByComment(comment: string): Promise<NatRule[]>;
  /** Adds a rule; returns its id. */
  addNatRule(fields: Record<string, string>): Promise<string>;
  /** Sets these properties of a rule. */
  setNatRule(id: string, fields: Record<string, string>): Promise<void>;
  /** Removes properties from a rule (back to the router's default). */
  unsetNatRuleFields(id: string, names: string[]): Promise<void>;
  removeNatRule(id: string): Promise<void>;
  /** Closes the connection, if one is open. */
  close(): Promise<void>;
}
