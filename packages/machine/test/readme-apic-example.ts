import { Hpet, IoApic, LocalApic, ManualClock } from "@turtles/machine";

// An HPET timer drives I/O APIC pin 20 (level), which sends to the local APIC; EOIs go back.
const clock = new ManualClock();
let lapic: LocalApic | undefined;
const ioapic = new IoApic({ deliver: (...message) => lapic?.deliver(...message) });
lapic = new LocalApic({ clock, eoiBroadcast: (vector) => ioapic.eoi(vector) });
const hpet = new Hpet({ clock, ioapicLine: (pin) => ioapic.irqLine(pin) });

// What a guest does: enable its APIC (SVR), route pin 20 to vector 0x34 (level, active high)...
lapic.write(0xf0, 4, 0x1ff);
ioapic.write(0x00, 4, 0x10 + 2 * 20);
ioapic.write(0x10, 4, 0x8034);
// ...and start HPET timer 0: level-triggered, enabled, pin 20, comparator 1000 ticks (10 us).
hpet.write(0x100, 4, 0x2 | 0x4 | (20 << 9));
hpet.write(0x108, 4, 1000);
hpet.write(0x10c, 4, 0);
hpet.write(0x010, 4, 1);

// The machine's loop: advance to the next deadline, poll, let the CPU take the interrupt.
clock.set(hpet.nextDeadlineNs());
hpet.poll();
console.log("INTR", lapic.hasInterrupt(), "at", clock.nowNs(), "ns");
const vector = lapic.acknowledge();
hpet.write(0x020, 4, 1); // the handler clears the HPET's status bit...
lapic.write(0xb0, 4, 0); // ...and sends EOI, which the I/O APIC hears
console.log("vector", vector.toString(16), "then INTR", lapic.hasInterrupt());

// The CPU forwards x2APIC MSRs; a forbidden access answers #GP for it to raise.
console.log("x2APIC ID read in xAPIC mode:", lapic.readMsr(0x802) === 1 ? "#GP" : "ok");
