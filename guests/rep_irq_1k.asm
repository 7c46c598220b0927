; rep_irq_1k: rep_irq with the PIT at ~1 kHz, for recordings on kvm. Under
; the nested harness each tick costs milliseconds of exits (a kick, the
; injection, the EOI, an IRQ window), so at rep_irq's 600 kHz (or 20 kHz)
; the handler runs back to back and the rep code never runs; at 1 kHz the
; ticks land inside its reps. On emu (1 ns per instruction) it sees no tick
; at all, so it prints only the checksum and the port batch check. With
; the port string instructions: the ticks that land in a rep ins enter
; where KVM ends a batch of elements, and a replay on emu lets them in
; there too (docs/design.md).
%define PIT_DIVISOR 1193
%define PORT_BATCHES
%define NO_TICK_REPORT
%include "rep_irq.asm"
