/* (k) Hardware task switching (SDM vol. 3, chapter 8): 32-bit TSSs for this task (0x20), tasks A
 * (0x28) and B (0x30), a double-fault task (0x38) and an overflow task (0x48); a task gate for B in
 * the GDT (0x40) and one for #DF in the IDT. Far JMP and CALL to a TSS descriptor and through the
 * task gate, INT n through an IDT task gate, IRET back through the back link with NT set (also a
 * thousand times in a loop), nested CALLs, the busy bits and NT of
 * SDM Table 8-2 after each switch, CR0.TS, the state saved in and reloaded from the TSS, an LDT and
 * an LDT selector loaded from it, #GP for a CALL or JMP to a busy TSS, #TS for an IRET to a free
 * TSS and for a TSS limit below 0x67, a CALL to a TSS whose EFLAGS has VM set (virtual-8086 mode
 * entered by the switch; its #GP reaches a ring-0 handler on SS0:ESP0, which returns to the
 * caller by IRET with NT), a CALL to a 16-bit TSS, a task with its own CR3, and the classic
 * stack overflow: with paging on, a task pushes into a
 * not-present guard page, the #PF cannot be delivered on that stack, and the #DF goes through the
 * IDT task gate to a task with its own stack, which repairs the overflowed task and IRETs to it. */
#include "rt.h"
#include "sys.h"

#define SEL_MAIN 0x20
#define SEL_A 0x28
#define SEL_B 0x30
#define SEL_DF 0x38
#define SEL_GATE_B 0x40
#define SEL_OVF 0x48
#define SEL_SMALL 0x50 /* a TSS descriptor for B whose limit is below 0x67 */
#define SEL_LDT 0x58   /* B's LDT */
#define SEL_V86 0x60   /* a task whose EFLAGS image has VM set */
#define SEL_CODE16 0x68 /* 16-bit code, base 0 */
#define SEL_DATA16 0x70 /* 16-bit data, base 0 */
#define SEL_TSS16 0x78  /* a 16-bit TSS */
#define SEL_C 0x80      /* a task with its own CR3 */

static uint64_t gdt[17];
static uint16_t tss16[22] __attribute__((aligned(16))); /* SDM vol. 3, Figure 8-11 */
static uint64_t ldt_b[2];
static struct gate idt[256];
static struct tss32 tss_main, tss_a, tss_b, tss_df, tss_ovf;
static uint8_t stack_a[4096] __attribute__((aligned(16)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_df[4096] __attribute__((aligned(16)));
static uint8_t stack_v86_ring0[4096] __attribute__((aligned(16)));
static struct tss32 tss_v86;
/* What the ring-0 #GP handler of the virtual-8086 task saw: the frame, TR, where the frame was. */
static volatile uint32_t v86_frame[10];
static volatile uint32_t v86_frame_end;
static volatile uint16_t v86_tr;
/* 32-bit paging: the first 4 MiB identity-mapped with 4 KiB pages, but the guard page. */
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));
/* Task C's address space: the same, but linear 0x300000 maps physical 0x301000. */
static uint32_t page_dir_c[1024] __attribute__((aligned(4096)));
static uint32_t page_table_c[1024] __attribute__((aligned(4096)));
static struct tss32 tss_c;
static uint8_t stack_c[4096] __attribute__((aligned(16)));
static volatile uint32_t seen_c;
static struct {
  uint8_t guard[4096];
  uint8_t stack[4096];
} ovf_area __attribute__((aligned(4096)));

/* What a task saw when it ran (written by the task, read by this one). */
struct seen {
  uint32_t runs, eflags, cr0;
  uint16_t tr, link, fs, ldtr, ds;
  uint8_t type_main, type_a, type_b;
};
static volatile struct seen seen_a, seen_b, seen_a_after_b;
static volatile int nest;

/* Written by the assembly below (hence not static). */
uint32_t df_error, gp_error, gp_count, ovf_recovered, ts_error, ts_count, ts_skip;

void task_df_entry(void);
void task_ovf_entry(void);
void ovf_recover(void);
void gp_stub(void);
void ts_stub(void);
extern const char main_after_jmp[];
extern void (*const exception_stubs[32])(void);

__asm__(".pushsection .text\n"
        /* The #DF task: the task gate pushes the error code on this task's own stack. */
        ".globl task_df_entry\n"
        "task_df_entry:\n"
        "  popl df_error\n"
        "  call df_body\n"
        "  iret\n" /* back to the overflowed task; entered again, it starts over */
        "  jmp task_df_entry\n"
        /* The overflow task: pushes until it reaches the guard page. */
        ".globl task_ovf_entry, ovf_recover\n"
        "task_ovf_entry:\n"
        "1:pushl $0x0f0f0f0f\n"
        "  jmp 1b\n"
        "ovf_recover:\n" /* where the #DF task sends it, on a fresh stack */
        "  movl $1, ovf_recovered\n"
        "  iret\n" /* NT is set: back to the task that called it */
        "  jmp ovf_recover\n"
        /* #GP from a far JMP/CALL (7 bytes) to a busy TSS: record the error code, skip it. */
        ".globl gp_stub\n"
        "gp_stub:\n"
        "  testl $0x20000, 12(%esp)\n" /* from virtual-8086 mode? */
        "  jnz gp_from_v86\n"
        "  popl gp_error\n"
        "  addl $7, (%esp)\n"
        "  incl gp_count\n"
        "  iret\n"
        /* #GP in the virtual-8086 task: DS and ES are null here; record the frame, then IRET with
         * NT set: a task return to the task that called it. */
        "gp_from_v86:\n"
        "  mov $0x10, %eax\n  mov %eax, %ds\n  mov %eax, %es\n"
        "  push %esp\n"
        "  call v86_task_gp\n"
        "  add $4, %esp\n"
        "  pushf\n  orl $0x4000, (%esp)\n  popf\n"
        "  iret\n"
        /* #TS: record the error code, skip ts_skip bytes and clear NT in the EFLAGS image. */
        ".globl ts_stub\n"
        "ts_stub:\n"
        "  popl ts_error\n"
        "  push %eax\n"
        "  mov ts_skip, %eax\n"
        "  add %eax, 4(%esp)\n"
        "  andl $~0x4000, 12(%esp)\n"
        "  pop %eax\n"
        "  incl ts_count\n"
        "  iret\n"
        ".popsection\n");

void v86_task_gp(uint32_t *frame);
void v86_task_gp(uint32_t *frame) {
  for (int i = 0; i < 10; i++) v86_frame[i] = frame[i];
  v86_frame_end = (uint32_t)&frame[10];
  v86_tr = str();
}

/* The 16-bit task's code, copied to 0x8000: stores a word, its FLAGS and DS, then IRET (NT set:
 * back to the caller); called again, it starts over. */
extern const char t16_code[], t16_end[], t16_after_iret[];
__asm__(".pushsection .text\n"
        ".code16\n"
        ".globl t16_code, t16_end, t16_after_iret\n"
        "t16_code:\n"
        "  mov $0x1234, %ax\n  mov %ax, (0x8800)\n"
        "  pushf\n  pop %ax\n  mov %ax, (0x8802)\n"
        "  mov %ds, %ax\n  mov %ax, (0x8804)\n"
        "  iret\n"
        "t16_after_iret:\n"
        "  jmp t16_code\n"
        "t16_end:\n"
        ".code32\n"
        ".popsection\n");

/* The virtual-8086 task's code, copied to 2000:0000: a store through DS, then INT 0x21 (#GP(0)
 * with IOPL 0). */
static const uint8_t v86_task_code[] = {
    0xb8, 0x34, 0x12,       /* mov ax, 0x1234 */
    0xa3, 0x10, 0x00,       /* mov [0x0010], ax: linear 0x20010 */
    0xcd, 0x21,             /* int 0x21 */
    0xeb, 0xfe,             /* jmp $ */
};

static uint8_t type_of(uint16_t sel) { return (uint8_t)(gdt[sel >> 3] >> 40); }

static uint32_t read_cr0(void) {
  uint32_t v;
  __asm__ volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}

static uint32_t read_cr2(void) {
  uint32_t v;
  __asm__ volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}

static uint16_t read_fs(void) {
  uint16_t v;
  __asm__ volatile("mov %%fs, %0" : "=r"(v));
  return v;
}

static uint16_t read_ldtr(void) {
  uint16_t v;
  __asm__ volatile("sldt %0" : "=r"(v));
  return v;
}

static uint16_t read_ds(void) {
  uint16_t v;
  __asm__ volatile("mov %%ds, %0" : "=r"(v));
  return v;
}

static void record(volatile struct seen *s, const struct tss32 *own) {
  s->runs++;
  s->eflags = eflags();
  s->cr0 = read_cr0();
  s->tr = str();
  s->link = own->link;
  s->fs = read_fs();
  s->ldtr = read_ldtr();
  s->ds = read_ds();
  s->type_main = type_of(SEL_MAIN);
  s->type_a = type_of(SEL_A);
  s->type_b = type_of(SEL_B);
}

/* A task that was JMPed to jumps back to SEL_MAIN; one that was CALLed (NT set) returns by IRET. */
static void leave_task(uint32_t flags) {
  if (flags & FL_NT)
    __asm__ volatile("iret" : : : "memory");
  else
    __asm__ volatile("ljmp %0, $0" : : "i"(SEL_MAIN) : "memory");
}

static void task_a(void) {
  for (;;) {
    record(&seen_a, &tss_a);
    if (seen_a.runs == 1) {
      /* Entered by the JMP below: check what this task's JMP saved, and change the EBX it reloads. */
      check(tss_main.eip == (uint32_t)main_after_jmp, "EIP after the JMP not saved in TSS 20");
      check(tss_main.ebx == 0x5eed0001 && tss_main.esi == 0x5eed0002, "EBX, ESI not saved in TSS 20");
      tss_main.ebx = 0x600d0001;
    }
    if (nest) {
      nest = 0;
      __asm__ volatile("lcall %0, $0" : : "i"(SEL_B) : "memory");
      record(&seen_a_after_b, &tss_a);
    }
    leave_task(seen_a.eflags);
  }
}

static void task_c(void) {
  for (;;) {
    seen_c = *(volatile uint32_t *)0x300000;
    __asm__ volatile("iret" : : : "memory");
  }
}

static void task_b(void) {
  for (;;) {
    record(&seen_b, &tss_b);
    leave_task(seen_b.eflags);
  }
}

/* The #DF task's work (on its own stack, the overflowed task's state saved in its TSS). */
void df_body(void);
void df_body(void) {
  uint32_t cr2 = read_cr2();
  uint32_t guard = (uint32_t)ovf_area.guard;
  check(df_error == 0, "#DF error code is not 0");
  check(str() == SEL_DF && tss_df.link == SEL_OVF, "#DF task: TR or back link");
  check((eflags() & FL_NT) != 0, "#DF task: NT clear");
  check(type_of(SEL_DF) == ACC_TSS32_BUSY && type_of(SEL_OVF) == ACC_TSS32_BUSY, "#DF task: busy bits");
  check(cr2 >= guard && cr2 < guard + 4096, "CR2 is not in the guard page");
  check(tss_ovf.esp >= guard + 4096 - 16 && tss_ovf.esp <= guard + 4096, "saved ESP not at the guard page");
  puts("tasks: stack overflow in task 48: #PF on the guard page, #PF delivering it, #DF through the IDT "
       "task gate to TSS 38 (error code 0, back link 0048, NT set, CR2 in the guard page)\n");
  /* Repair the overflowed task: a fresh stack and a place to resume. */
  tss_ovf.esp = (uint32_t)ovf_area.stack + sizeof ovf_area.stack;
  tss_ovf.eip = (uint32_t)ovf_recover;
}

static void tss_init(struct tss32 *t, void (*entry)(void), uint8_t *stack, uint32_t stack_size) {
  t->eip = (uint32_t)entry;
  t->esp = (uint32_t)stack + stack_size;
  t->eflags = 2;
  t->cs = SEL_CODE32;
  t->ss = t->ds = t->es = t->gs = SEL_DATA;
  t->fs = 0; /* a null FS, so that its load from the TSS shows */
  t->cr3 = (uint32_t)page_dir;
  t->iomap = sizeof(struct tss32);
}

/* JMP to task A with EBX and ESI set; returns EBX as task A left it in this task's TSS. */
static uint32_t __attribute__((noinline, noclone)) jmp_to_a(void) {
  uint32_t b;
  __asm__ volatile("mov $0x5eed0001, %%ebx\n"
                   "mov $0x5eed0002, %%esi\n"
                   "ljmp %1, $0\n"
                   ".globl main_after_jmp\n"
                   "main_after_jmp:\n"
                   : "=b"(b)
                   : "i"(SEL_A)
                   : "esi", "memory");
  return b;
}

void test_main(uint32_t magic, struct multiboot_info *mbi) {
  (void)magic;
  (void)mbi;
  gdt[1] = DESC_CODE32;
  gdt[2] = DESC_DATA;
  gdt[SEL_MAIN >> 3] = seg_desc((uint32_t)&tss_main, sizeof tss_main - 1, ACC_TSS32_AVAIL, 0);
  gdt[SEL_A >> 3] = seg_desc((uint32_t)&tss_a, sizeof tss_a - 1, ACC_TSS32_AVAIL, 0);
  gdt[SEL_B >> 3] = seg_desc((uint32_t)&tss_b, sizeof tss_b - 1, ACC_TSS32_AVAIL, 0);
  gdt[SEL_DF >> 3] = seg_desc((uint32_t)&tss_df, sizeof tss_df - 1, ACC_TSS32_AVAIL, 0);
  gdt[SEL_GATE_B >> 3] = (uint64_t)SEL_B << 16 | (uint64_t)ACC_TASK_GATE << 40;
  gdt[SEL_OVF >> 3] = seg_desc((uint32_t)&tss_ovf, sizeof tss_ovf - 1, ACC_TSS32_AVAIL, 0);
  gdt[SEL_SMALL >> 3] = seg_desc((uint32_t)&tss_b, 0x60, ACC_TSS32_AVAIL, 0);
  gdt[SEL_LDT >> 3] = seg_desc((uint32_t)ldt_b, sizeof ldt_b - 1, 0x82, 0);
  gdt[SEL_V86 >> 3] = seg_desc((uint32_t)&tss_v86, sizeof tss_v86 - 1, ACC_TSS32_AVAIL, 0);
  gdt[SEL_CODE16 >> 3] = seg_desc(0, 0xffff, 0x9a, 0);
  gdt[SEL_DATA16 >> 3] = seg_desc(0, 0xffff, 0x92, 0);
  gdt[SEL_TSS16 >> 3] = seg_desc((uint32_t)tss16, sizeof tss16 - 1, 0x81, 0); /* available 16-bit TSS */
  gdt[SEL_C >> 3] = seg_desc((uint32_t)&tss_c, sizeof tss_c - 1, ACC_TSS32_AVAIL, 0);
  ldt_b[1] = DESC_DATA; /* selector 0x0c: LDT entry 1 */
  lgdt(gdt, sizeof gdt);
  for (int v = 0; v < 32; v++) gate_set(&idt[v], SEL_CODE32, (uint32_t)exception_stubs[v], 0x8e);
  gate_set(&idt[8], SEL_DF, 0, ACC_TASK_GATE);
  gate_set(&idt[0x40], SEL_B, 0, ACC_TASK_GATE); /* INT 0x40: a task gate to B */
  gate_set(&idt[10], SEL_CODE32, (uint32_t)ts_stub, 0x8e);
  gate_set(&idt[13], SEL_CODE32, (uint32_t)gp_stub, 0x8e);
  lidt(idt, sizeof idt);
  /* User pages too: virtual-8086 code runs at CPL 3. */
  for (uint32_t i = 0; i < 1024; i++) page_table[i] = i * 4096 | 7;
  page_table[(uint32_t)ovf_area.guard >> 12] = 0;
  page_dir[0] = (uint32_t)page_table | 7;
  __asm__ volatile("mov %0, %%cr3\n"
                   "mov %%cr0, %%eax\n"
                   "or $0x80000000, %%eax\n"
                   "mov %%eax, %%cr0\n"
                   "jmp 1f\n"
                   "1:\n"
                   :
                   : "r"(page_dir)
                   : "eax", "memory");
  tss_main.iomap = sizeof(struct tss32);
  tss_main.cr3 = (uint32_t)page_dir;
  tss_init(&tss_a, task_a, stack_a, sizeof stack_a);
  tss_init(&tss_b, task_b, stack_b, sizeof stack_b);
  tss_b.ldt = SEL_LDT;
  tss_b.ds = 0x0c; /* DS from B's LDT */
  tss_init(&tss_df, task_df_entry, stack_df, sizeof stack_df);
  tss_init(&tss_ovf, task_ovf_entry, ovf_area.stack, sizeof ovf_area.stack);
  ltr(SEL_MAIN);
  check(type_of(SEL_MAIN) == ACC_TSS32_BUSY, "LTR did not mark TSS 20 busy");
  puts("tasks: TSSs 20 (this task, busy after LTR), 28 (A), 30 (B), 38 (#DF), 48 (overflow); task gate "
       "40 to B; IDT vector 8 a task gate to 38; paging on\n");

  /* JMP to a TSS descriptor: the old task is freed, NT comes from the new TSS, no back link. */
  uint32_t ebx = jmp_to_a();
  check(seen_a.runs == 1 && seen_a.tr == SEL_A, "JMP 28: task A did not run");
  check((seen_a.eflags & FL_NT) == 0 && seen_a.link == 0, "JMP 28: NT set or back link written");
  check(seen_a.type_a == ACC_TSS32_BUSY && seen_a.type_main == ACC_TSS32_AVAIL, "JMP 28: busy bits");
  check((seen_a.cr0 & 8) != 0, "JMP 28: CR0.TS not set");
  check(seen_a.fs == 0, "JMP 28: FS not loaded from the TSS");
  puts("tasks: JMP to TSS 28: TR=0028, NT clear, back link untouched, 28 busy and 20 free, CR0.TS set, "
       "FS null from the TSS\n");
  check(str() == SEL_MAIN && type_of(SEL_MAIN) == ACC_TSS32_BUSY && type_of(SEL_A) == ACC_TSS32_AVAIL,
        "JMP back to 20: TR or busy bits");
  check(ebx == 0x600d0001, "EBX not reloaded from TSS 20");
  puts("tasks: JMP back to TSS 20: EIP and EBX had been saved in it, EBX reloaded as task A rewrote it\n");

  /* CALL to a TSS descriptor: NT set, back link, the caller stays busy; IRET returns through it. */
  __asm__ volatile("clts");
  __asm__ volatile("lcall %0, $0" : : "i"(SEL_A) : "memory");
  check(seen_a.runs == 2, "CALL 28: task A did not run");
  check((seen_a.eflags & FL_NT) != 0 && seen_a.link == SEL_MAIN, "CALL 28: NT clear or back link not 20");
  check(seen_a.type_a == ACC_TSS32_BUSY && seen_a.type_main == ACC_TSS32_BUSY, "CALL 28: busy bits");
  check((seen_a.cr0 & 8) != 0, "CALL 28: CR0.TS not set");
  check((eflags() & FL_NT) == 0 && type_of(SEL_A) == ACC_TSS32_AVAIL && type_of(SEL_MAIN) == ACC_TSS32_BUSY,
        "IRET from 28: NT or busy bits");
  check((tss_a.eflags & FL_NT) == 0, "IRET from 28: NT not cleared in its saved EFLAGS");
  puts("tasks: CALL to TSS 28: NT set, back link 0020, 20 and 28 busy; IRET returned through the back "
       "link: 28 free, NT clear in its saved EFLAGS\n");

  /* JMP and CALL through the task gate 40 to B. */
  __asm__ volatile("ljmp %0, $0" : : "i"(SEL_GATE_B) : "memory");
  check(seen_b.runs == 1 && seen_b.tr == SEL_B, "JMP 40: task B did not run");
  check((seen_b.eflags & FL_NT) == 0 && seen_b.link == 0, "JMP 40: NT set or back link written");
  check(seen_b.type_b == ACC_TSS32_BUSY && seen_b.type_main == ACC_TSS32_AVAIL, "JMP 40: busy bits");
  check(seen_b.ldtr == SEL_LDT && seen_b.ds == 0x0c, "JMP 40: LDTR or DS (an LDT selector) not loaded");
  check(read_ldtr() == 0, "JMP back from 30: LDTR not reloaded (null) from TSS 20");
  puts("tasks: JMP through task gate 40 to TSS 30: NT clear, 30 busy and 20 free, LDTR=0058 and DS=000c "
       "(from its LDT) loaded from the TSS\n");
  __asm__ volatile("lcall %0, $0" : : "i"(SEL_GATE_B) : "memory");
  check(seen_b.runs == 2 && seen_b.tr == SEL_B, "CALL 40: task B did not run");
  check((seen_b.eflags & FL_NT) != 0 && seen_b.link == SEL_MAIN, "CALL 40: NT clear or back link not 20");
  check(seen_b.type_b == ACC_TSS32_BUSY && seen_b.type_main == ACC_TSS32_BUSY, "CALL 40: busy bits");
  check(type_of(SEL_B) == ACC_TSS32_AVAIL, "IRET from 30: still busy");
  puts("tasks: CALL through task gate 40 to TSS 30: NT set, back link 0020; IRET returned\n");

  /* INT 0x40 through the IDT task gate, then a thousand CALL/IRET round trips. */
  __asm__ volatile("int $0x40" : : : "memory");
  check(seen_b.runs == 3 && (seen_b.eflags & FL_NT) != 0 && seen_b.link == SEL_MAIN, "INT 0x40: B not called");
  check(type_of(SEL_B) == ACC_TSS32_AVAIL && str() == SEL_MAIN, "INT 0x40: IRET did not return");
  for (int i = 0; i < 1000; i++) __asm__ volatile("lcall %0, $0" : : "i"(SEL_GATE_B) : "memory");
  check(seen_b.runs == 1003 && type_of(SEL_B) == ACC_TSS32_AVAIL, "1000 CALLs to B: not all ran and returned");
  puts("tasks: INT 0x40 through an IDT task gate to TSS 30 and back by IRET; then 1000 CALL/IRET round "
       "trips\n");

  /* Nested: 20 CALLs 28, which CALLs 30. */
  nest = 1;
  __asm__ volatile("lcall %0, $0" : : "i"(SEL_A) : "memory");
  check(seen_b.runs == 1004 && seen_b.link == SEL_A && (seen_b.eflags & FL_NT) != 0, "nested: B's back link");
  check(seen_b.type_main == ACC_TSS32_BUSY && seen_b.type_a == ACC_TSS32_BUSY && seen_b.type_b == ACC_TSS32_BUSY,
        "nested: not all three busy");
  check(seen_a_after_b.tr == SEL_A && (seen_a_after_b.eflags & FL_NT) != 0 && seen_a_after_b.link == SEL_MAIN &&
            seen_a_after_b.type_b == ACC_TSS32_AVAIL,
        "nested: A after B's IRET");
  check(type_of(SEL_A) == ACC_TSS32_AVAIL && type_of(SEL_B) == ACC_TSS32_AVAIL, "nested: not unwound");
  puts("tasks: nested CALLs 20 -> 28 -> 30: back links 0020 and 0028, all three busy; two IRETs unwound "
       "them\n");

  /* A busy TSS cannot be entered by CALL or JMP: #GP(selector). */
  __asm__ volatile("lcall %0, $0" : : "i"(SEL_MAIN) : "memory");
  check(gp_count == 1 && gp_error == SEL_MAIN, "CALL to the busy TSS 20: no #GP(0020)");
  __asm__ volatile("ljmp %0, $0" : : "i"(SEL_MAIN) : "memory");
  check(gp_count == 2 && gp_error == SEL_MAIN, "JMP to the busy TSS 20: no #GP(0020)");
  puts("tasks: CALL and JMP to the busy TSS 20 trapped as #GP(0020)\n");

  /* #TS: IRET with NT to a back link that is not busy; a JMP to a TSS whose limit is below 0x67. */
  tss_main.link = SEL_A;
  ts_skip = 1;
  __asm__ volatile("pushf\n"
                   "orl $0x4000, (%%esp)\n"
                   "popf\n"
                   "iret\n"
                   :
                   :
                   : "memory", "cc");
  check(ts_count == 1 && ts_error == SEL_A, "IRET to the free TSS 28: no #TS(0028)");
  check(str() == SEL_MAIN && (eflags() & FL_NT) == 0, "IRET to the free TSS 28: a task switch");
  ts_skip = 7;
  __asm__ volatile("ljmp %0, $0" : : "i"(SEL_SMALL) : "memory");
  check(ts_count == 2 && ts_error == SEL_SMALL, "JMP to TSS 50 (limit 60): no #TS(0050)");
  check(str() == SEL_MAIN && type_of(SEL_B) == ACC_TSS32_AVAIL, "JMP to TSS 50: a task switch");
  puts("tasks: IRET with NT to the free TSS 28 trapped as #TS(0028); JMP to TSS 50 (limit 60) as #TS(0050)\n");

  /* A task whose TSS holds EFLAGS.VM = 1: the switch enters virtual-8086 mode (SDM vol. 3, 20.2.5). */
  for (uint32_t i = 0; i < sizeof v86_task_code; i++) ((volatile uint8_t *)0x20000)[i] = v86_task_code[i];
  tss_v86.eip = 0;
  tss_v86.eflags = FL_VM | 2;
  tss_v86.cs = 0x2000;
  tss_v86.ds = 0x2000;
  tss_v86.es = 0x2001;
  tss_v86.fs = 0x2002;
  tss_v86.gs = 0x2003;
  tss_v86.ss = 0x3000;
  tss_v86.esp = 0xfffe;
  tss_v86.esp0 = (uint32_t)stack_v86_ring0 + sizeof stack_v86_ring0;
  tss_v86.ss0 = SEL_DATA;
  tss_v86.cr3 = (uint32_t)page_dir;
  tss_v86.iomap = sizeof(struct tss32);
  __asm__ volatile("lcall %0, $0" : : "i"(SEL_V86) : "memory");
  check(*(volatile uint16_t *)0x20010 == 0x1234, "task 60: the 8086 code did not store through DS = 2000");
  check(v86_tr == SEL_V86 && v86_frame_end == tss_v86.esp0, "task 60: #GP not on SS0:ESP0 of TSS 60");
  check(v86_frame[0] == 0 && v86_frame[1] == 6 && v86_frame[2] == 0x2000, "task 60: #GP error code or CS:EIP");
  check((v86_frame[3] & (FL_VM | FL_NT | FL_IOPL3)) == (FL_VM | FL_NT), "task 60: EFLAGS (VM, NT, IOPL 0)");
  check(v86_frame[4] == 0xfffe && v86_frame[5] == 0x3000, "task 60: SS:ESP");
  check(v86_frame[6] == 0x2001 && v86_frame[7] == 0x2000 && v86_frame[8] == 0x2002 && v86_frame[9] == 0x2003,
        "task 60: ES, DS, FS, GS");
  check(str() == SEL_MAIN && type_of(SEL_V86) == ACC_TSS32_AVAIL, "task 60: no return to 20");
  puts("tasks: CALL to TSS 60 with VM in its EFLAGS: 8086 code at 2000:0000 stored through DS=2000, its INT "
       "0x21 (IOPL 0) gave #GP(0) on SS0:ESP0 with the virtual-8086 frame; IRET with NT returned to 20\n");

  /* A 16-bit TSS (type 1): IP, FLAGS, SP and the segment selectors from its 44 bytes. */
  for (uint32_t i = 0; i < (uint32_t)(t16_end - t16_code); i++) ((volatile uint8_t *)0x8000)[i] = (uint8_t)t16_code[i];
  tss16[7] = 0x8000;     /* IP */
  tss16[8] = 2;          /* FLAGS */
  tss16[13] = 0x7c00;    /* SP */
  tss16[17] = SEL_DATA16; /* ES */
  tss16[18] = SEL_CODE16; /* CS */
  tss16[19] = SEL_DATA16; /* SS */
  tss16[20] = SEL_DATA16; /* DS */
  __asm__ volatile("lcall %0, $0" : : "i"(SEL_TSS16) : "memory");
  check(*(volatile uint16_t *)0x8800 == 0x1234 && *(volatile uint16_t *)0x8804 == SEL_DATA16, "16-bit task: did not run");
  check((*(volatile uint16_t *)0x8802 & FL_NT) != 0 && tss16[0] == SEL_MAIN, "16-bit task: NT or back link");
  check(tss16[7] == 0x8000 + (uint32_t)(t16_after_iret - t16_code) && (tss16[8] & FL_NT) == 0,
        "16-bit task: IP or FLAGS saved in its TSS");
  check(type_of(SEL_TSS16) == 0x81 && str() == SEL_MAIN, "16-bit task: busy bit or TR after the IRET");
  puts("tasks: CALL to the 16-bit TSS 78: its code ran with NT set and back link 0020; IRET saved IP and "
       "FLAGS (NT clear) in its 16-bit TSS and returned\n");

  /* A task with its own CR3: the switch loads it (and drops the old translations), the switch
   * back reloads this task's. */
  for (uint32_t i = 0; i < 1024; i++) page_table_c[i] = page_table[i];
  page_table_c[0x300] = 0x301000 | 7;
  page_dir_c[0] = (uint32_t)page_table_c | 7;
  *(volatile uint32_t *)0x300000 = 0x11111111;
  *(volatile uint32_t *)0x301000 = 0x22222222;
  tss_init(&tss_c, task_c, stack_c, sizeof stack_c);
  tss_c.cr3 = (uint32_t)page_dir_c;
  for (int i = 0; i < 3; i++) {
    check(*(volatile uint32_t *)0x300000 == 0x11111111, "CR3: this task's mapping of 300000");
    __asm__ volatile("lcall %0, $0" : : "i"(SEL_C) : "memory");
    check(seen_c == 0x22222222, "CR3: task C did not see its own mapping of 300000");
  }
  uint32_t cr3;
  __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  check(cr3 == (uint32_t)page_dir && *(volatile uint32_t *)0x300000 == 0x11111111, "CR3 not reloaded from TSS 20");
  puts("tasks: CALL to TSS 80 loads its CR3: linear 300000 reads 22222222 there and 11111111 here, three "
       "times over (no stale translations)\n");

  /* The stack overflow and the #DF task. */
  __asm__ volatile("lcall %0, $0" : : "i"(SEL_OVF) : "memory");
  check(ovf_recovered == 1, "task 48 did not resume where the #DF task sent it");
  check(type_of(SEL_OVF) == ACC_TSS32_AVAIL && type_of(SEL_DF) == ACC_TSS32_AVAIL, "after #DF: busy bits");
  check(str() == SEL_MAIN, "after #DF: TR");
  puts("tasks: the #DF task repaired task 48 and IRETed to it; task 48 IRETed back to 20\n");
  pass();
}
