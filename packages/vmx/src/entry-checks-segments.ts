import {
  arDpl,
  arType,
  base,
  baseCanonical,
  CR0_PE,
  check,
  type EntryCheck,
  type EntryCheckContext,
  G,
  granularityOk,
  ia32eGuest,
  limit,
  lo,
  SEG_CS,
  SEG_DS,
  SEG_ES,
  SEG_FS,
  SEG_GS,
  SEG_LDTR,
  SEG_SS,
  SEG_TR,
  segAr,
  selector,
  unrestricted,
  unusable,
  v8086,
} from "./entry-check-support.js";
import { VmcsField as F } from "./vmcs-fields.js";

// Checks on guest segment registers (SDM 27.3.1.2), per register.
function segmentChecks(): EntryCheck[] {
  const out: EntryCheck[] = [];
  const sdm = "27.3.1.2";
  const names = ["es", "cs", "ss", "ds", "fs", "gs"];
  // virtual-8086 mode: base = selector << 4, limit FFFFH, access rights F3H
  for (let s = 0; s < 6; s++) {
    out.push(
      check(`guest.${names[s]}.v86-base`, sdm, G, (c) => {
        if (!v8086(c)) return true;
        const [l, h] = base(c, s);
        return h === 0 && l === selector(c, s) * 16;
      }),
      check(`guest.${names[s]}.v86-limit`, sdm, G, (c) => !v8086(c) || limit(c, s) === 0xffff),
      check(`guest.${names[s]}.v86-ar`, sdm, G, (c) => !v8086(c) || segAr(c, s) === 0xf3),
    );
  }
  out.push(
    check("guest.tr.selector-ti", sdm, G, (c) => (selector(c, SEG_TR) & 4) === 0),
    check(
      "guest.ldtr.selector-ti",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (selector(c, SEG_LDTR) & 4) === 0,
    ),
    check(
      "guest.ss.rpl-equals-cs-rpl",
      sdm,
      G,
      (c) => v8086(c) || unrestricted(c) || (selector(c, SEG_SS) & 3) === (selector(c, SEG_CS) & 3),
    ),
    check("guest.tr.base-canonical", sdm, G, (c) => baseCanonical(c, SEG_TR)),
    check("guest.fs.base-canonical", sdm, G, (c) => baseCanonical(c, SEG_FS)),
    check("guest.gs.base-canonical", sdm, G, (c) => baseCanonical(c, SEG_GS)),
    check(
      "guest.ldtr.base-canonical",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || baseCanonical(c, SEG_LDTR),
    ),
    check("guest.cs.base-high-zero", sdm, G, (c) => base(c, SEG_CS)[1] === 0),
  );
  for (const s of [SEG_SS, SEG_DS, SEG_ES]) {
    out.push(
      check(`guest.${names[s]}.base-high-zero`, sdm, G, (c) => unusable(segAr(c, s)) || base(c, s)[1] === 0),
    );
  }
  // access rights outside virtual-8086 mode
  const nv = (f: (c: EntryCheckContext) => boolean) => (c: EntryCheckContext) => v8086(c) || f(c);
  out.push(
    check(
      "guest.cs.type",
      sdm,
      G,
      nv((c) => {
        const t = arType(segAr(c, SEG_CS));
        return t === 9 || t === 11 || t === 13 || t === 15 || (unrestricted(c) && t === 3);
      }),
    ),
    check(
      "guest.ss.type",
      sdm,
      G,
      nv((c) => {
        const ar = segAr(c, SEG_SS);
        return unusable(ar) || arType(ar) === 3 || arType(ar) === 7;
      }),
    ),
  );
  for (const s of [SEG_DS, SEG_ES, SEG_FS, SEG_GS]) {
    out.push(
      check(
        `guest.${names[s]}.type`,
        sdm,
        G,
        nv((c) => {
          const ar = segAr(c, s);
          if (unusable(ar)) return true;
          const t = arType(ar);
          return (t & 1) === 1 && ((t & 8) === 0 || (t & 2) === 2);
        }),
      ),
    );
  }
  for (let s = 0; s < 6; s++) {
    const usableOrCs = (c: EntryCheckContext) => s === SEG_CS || !unusable(segAr(c, s));
    out.push(
      check(
        `guest.${names[s]}.s-bit`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || (segAr(c, s) & 0x10) !== 0),
      ),
    );
  }
  out.push(
    check(
      "guest.cs.dpl",
      sdm,
      G,
      nv((c) => {
        const ar = segAr(c, SEG_CS);
        const t = arType(ar);
        const ssDpl = arDpl(segAr(c, SEG_SS));
        if (t === 3) return arDpl(ar) === 0;
        if (t === 9 || t === 11) return arDpl(ar) === ssDpl;
        return arDpl(ar) <= ssDpl;
      }),
    ),
    check(
      "guest.ss.dpl-equals-rpl",
      sdm,
      G,
      nv((c) => unrestricted(c) || arDpl(segAr(c, SEG_SS)) === (selector(c, SEG_SS) & 3)),
    ),
    check(
      "guest.ss.dpl-zero-in-real-or-type3-cs",
      sdm,
      G,
      nv(
        (c) =>
          !(arType(segAr(c, SEG_CS)) === 3 || (lo(c, F.GUEST_CR0) & CR0_PE) === 0) ||
          arDpl(segAr(c, SEG_SS)) === 0,
      ),
    ),
  );
  for (const s of [SEG_DS, SEG_ES, SEG_FS, SEG_GS]) {
    out.push(
      check(
        `guest.${names[s]}.dpl`,
        sdm,
        G,
        nv((c) => {
          const ar = segAr(c, s);
          if (unrestricted(c) || unusable(ar) || arType(ar) > 11) return true;
          return arDpl(ar) >= (selector(c, s) & 3);
        }),
      ),
    );
  }
  for (let s = 0; s < 6; s++) {
    const usableOrCs = (c: EntryCheckContext) => s === SEG_CS || !unusable(segAr(c, s));
    out.push(
      check(
        `guest.${names[s]}.present`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || (segAr(c, s) & 0x80) !== 0),
      ),
      check(
        `guest.${names[s]}.ar-reserved`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || (segAr(c, s) & 0xfffe_0f00) === 0),
      ),
      check(
        `guest.${names[s]}.granularity`,
        sdm,
        G,
        nv((c) => !usableOrCs(c) || granularityOk(segAr(c, s), limit(c, s))),
      ),
    );
  }
  out.push(
    check(
      "guest.cs.db-with-l",
      sdm,
      G,
      nv((c) => {
        const ar = segAr(c, SEG_CS);
        return !(ia32eGuest(c) && (ar & 0x2000) !== 0) || (ar & 0x4000) === 0;
      }),
    ),
    check("guest.tr.type", sdm, G, (c) => {
      const t = arType(segAr(c, SEG_TR));
      return t === 11 || (t === 3 && !ia32eGuest(c));
    }),
    check("guest.tr.s-bit", sdm, G, (c) => (segAr(c, SEG_TR) & 0x10) === 0),
    check("guest.tr.present", sdm, G, (c) => (segAr(c, SEG_TR) & 0x80) !== 0),
    check("guest.tr.ar-reserved", sdm, G, (c) => (segAr(c, SEG_TR) & 0xfffe_0f00) === 0),
    check("guest.tr.granularity", sdm, G, (c) => granularityOk(segAr(c, SEG_TR), limit(c, SEG_TR))),
    check("guest.tr.usable", sdm, G, (c) => !unusable(segAr(c, SEG_TR))),
    check("guest.ldtr.type", sdm, G, (c) => unusable(segAr(c, SEG_LDTR)) || arType(segAr(c, SEG_LDTR)) === 2),
    check(
      "guest.ldtr.s-bit",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (segAr(c, SEG_LDTR) & 0x10) === 0,
    ),
    check(
      "guest.ldtr.present",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (segAr(c, SEG_LDTR) & 0x80) !== 0,
    ),
    check(
      "guest.ldtr.ar-reserved",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || (segAr(c, SEG_LDTR) & 0xfffe_0f00) === 0,
    ),
    check(
      "guest.ldtr.granularity",
      sdm,
      G,
      (c) => unusable(segAr(c, SEG_LDTR)) || granularityOk(segAr(c, SEG_LDTR), limit(c, SEG_LDTR)),
    ),
  );
  return out;
}

/** Checks on the guest segment registers (SDM 27.3.1.2). */
export const SEGMENT_CHECKS: readonly EntryCheck[] = segmentChecks();
