import { describe, expect, it } from "vitest";
import { clientAddressBlock } from "../src/lib/client-address";

describe("clientAddressBlock", () => {
  it.each([
    ["192.0.2.7", "192.0.2.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:DB8:0001:0002::9", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:192.0.2.9", "192.0.2.9"],
  ])("reads %s as the client %s", (ip, block) => {
    expect(clientAddressBlock(ip)).toBe(block);
  });

  it.each(["2001:db8::1::2", "2001:db8:zz::1", "1:2:3:4:5:6:7:8:9"])("keeps the unreadable %s as it is", (ip) => {
    expect(clientAddressBlock(ip)).toBe(ip);
  });
});
