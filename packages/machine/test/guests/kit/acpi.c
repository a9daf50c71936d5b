/* (g) ACPI: find the RSDP in 0xE0000-0xFFFFF, check its checksum, walk the RSDT checking each table. */
#include "rt.h"

static uint8_t sum(const uint8_t *p, uint32_t n) {
  uint8_t s = 0;
  for (uint32_t i = 0; i < n; i++) s = (uint8_t)(s + p[i]);
  return s;
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  const uint8_t *rsdp = 0;
  for (uint32_t a = 0xe0000; a < 0x100000; a += 16) {
    if (memeq((const void *)a, "RSD PTR ", 8) && sum((const uint8_t *)a, 20) == 0) {
      rsdp = (const uint8_t *)a;
      break;
    }
  }
  check(rsdp != 0, "no RSDP in 0xE0000-0xFFFFF");
  puts("ACPI: RSDP found, checksum ok\n");
  if (rsdp[15] >= 2) check(sum(rsdp, *(const uint32_t *)(rsdp + 20)) == 0, "bad RSDP extended checksum");
  const uint8_t *rsdt = (const uint8_t *)*(const uint32_t *)(rsdp + 16);
  check(memeq(rsdt, "RSDT", 4), "RSDT signature");
  uint32_t len = *(const uint32_t *)(rsdt + 4);
  check(sum(rsdt, len) == 0, "bad RSDT checksum");
  int facp = 0, apic = 0, hpet = 0;
  for (uint32_t off = 36; off + 4 <= len; off += 4) {
    const uint8_t *t = (const uint8_t *)*(const uint32_t *)(rsdt + off);
    uint32_t tlen = *(const uint32_t *)(t + 4);
    if (sum(t, tlen) != 0) {
      puts("bad checksum: ");
      for (int i = 0; i < 4; i++) putc((char)t[i]);
      putc('\n');
      fail("table checksum");
    }
    if (memeq(t, "FACP", 4)) facp = 1;
    if (memeq(t, "APIC", 4)) apic = 1;
    if (memeq(t, "HPET", 4)) hpet = 1;
  }
  check(facp && apic && hpet, "FACP, APIC or HPET missing");
  puts("ACPI: RSDT ok; FACP, APIC, HPET present with valid checksums\n");
  pass();
}
