; rep_irq_20k: rep_irq with the PIT at ~20 kHz, for recordings on kvm
; (under the nested harness every tick is a kick, a stop the replay must
; find again; at 600 kHz a kvm recording takes minutes there).
%define PIT_DIVISOR 60
%include "rep_irq.asm"
