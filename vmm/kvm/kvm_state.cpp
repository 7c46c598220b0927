#include "vmm/kvm/kvm_state.h"

namespace rrvm::kvm {

namespace {

Segment segment_from_kvm(const kvm_segment& k) {
  Segment s;
  s.selector = k.selector;
  s.base = k.base;
  s.limit = k.limit;
  s.type = k.type;
  // KVM reports a null/unusable segment with present=0 on AMD and unusable=1
  // on Intel; both mean "not present" to rrvm.
  s.present = k.unusable ? 0 : k.present;
  s.dpl = k.dpl;
  s.db = k.db;
  s.s = k.s;
  s.l = k.l;
  s.g = k.g;
  s.avl = k.avl;
  return s;
}

kvm_segment segment_to_kvm(const Segment& s) {
  kvm_segment k{};
  k.selector = s.selector;
  k.base = s.base;
  k.limit = s.limit;
  k.type = s.type;
  k.present = s.present;
  k.dpl = s.dpl;
  k.db = s.db;
  k.s = s.s;
  k.l = s.l;
  k.g = s.g;
  k.avl = s.avl;
  k.unusable = s.present ? 0 : 1;
  return k;
}

}  // namespace

Registers registers_from_kvm(const kvm_regs& regs, const kvm_sregs& sregs) {
  Registers r;
  r.rax = regs.rax;
  r.rbx = regs.rbx;
  r.rcx = regs.rcx;
  r.rdx = regs.rdx;
  r.rsi = regs.rsi;
  r.rdi = regs.rdi;
  r.rsp = regs.rsp;
  r.rbp = regs.rbp;
  r.r8 = regs.r8;
  r.r9 = regs.r9;
  r.r10 = regs.r10;
  r.r11 = regs.r11;
  r.r12 = regs.r12;
  r.r13 = regs.r13;
  r.r14 = regs.r14;
  r.r15 = regs.r15;
  r.rip = regs.rip;
  r.rflags = regs.rflags;
  r.cs = segment_from_kvm(sregs.cs);
  r.ds = segment_from_kvm(sregs.ds);
  r.es = segment_from_kvm(sregs.es);
  r.fs = segment_from_kvm(sregs.fs);
  r.gs = segment_from_kvm(sregs.gs);
  r.ss = segment_from_kvm(sregs.ss);
  r.tr = segment_from_kvm(sregs.tr);
  r.ldt = segment_from_kvm(sregs.ldt);
  r.gdt = DescriptorTable{sregs.gdt.base, sregs.gdt.limit};
  r.idt = DescriptorTable{sregs.idt.base, sregs.idt.limit};
  r.cr0 = sregs.cr0;
  r.cr2 = sregs.cr2;
  r.cr3 = sregs.cr3;
  r.cr4 = sregs.cr4;
  r.efer = sregs.efer;
  return r;
}

void registers_to_kvm(const Registers& in, kvm_regs* regs, kvm_sregs* sregs) {
  *regs = kvm_regs{};
  regs->rax = in.rax;
  regs->rbx = in.rbx;
  regs->rcx = in.rcx;
  regs->rdx = in.rdx;
  regs->rsi = in.rsi;
  regs->rdi = in.rdi;
  regs->rsp = in.rsp;
  regs->rbp = in.rbp;
  regs->r8 = in.r8;
  regs->r9 = in.r9;
  regs->r10 = in.r10;
  regs->r11 = in.r11;
  regs->r12 = in.r12;
  regs->r13 = in.r13;
  regs->r14 = in.r14;
  regs->r15 = in.r15;
  regs->rip = in.rip;
  regs->rflags = in.rflags | 0x2;  // bit 1 is architecturally always set
  sregs->cs = segment_to_kvm(in.cs);
  sregs->ds = segment_to_kvm(in.ds);
  sregs->es = segment_to_kvm(in.es);
  sregs->fs = segment_to_kvm(in.fs);
  sregs->gs = segment_to_kvm(in.gs);
  sregs->ss = segment_to_kvm(in.ss);
  sregs->tr = segment_to_kvm(in.tr);
  sregs->ldt = segment_to_kvm(in.ldt);
  sregs->gdt.base = in.gdt.base;
  sregs->gdt.limit = in.gdt.limit;
  sregs->idt.base = in.idt.base;
  sregs->idt.limit = in.idt.limit;
  sregs->cr0 = in.cr0;
  sregs->cr2 = in.cr2;
  sregs->cr3 = in.cr3;
  sregs->cr4 = in.cr4;
  sregs->efer = in.efer;
}

}  // namespace rrvm::kvm
