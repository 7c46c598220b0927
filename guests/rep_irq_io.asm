; rep_irq_io: rep_irq with its longer port strings (PORT_BATCHES) under the
; same ~600 kHz PIT, for recordings on emu: ticks land at the elements of
; its rep ins, and emu lets them in only where KVM ends a batch of elements,
; which the guest checks (docs/design.md). QEMU's TCG, like a CPU, lets them
; in after any element: its oracle accepts both answers
; (tests/guests/expected/rep_irq_io.regex; the RepBatches test wants yes).
%define PORT_BATCHES
%include "rep_irq.asm"
