// The palette, generated from the block catalog: categories, search, docs on hover/focus.
import React, { useMemo, useRef, useState } from "react";

export function Palette({ catalog, onAdd, mime }) {
  const [query, setQuery] = useState("");
  const [doc, setDoc] = useState(null);
  const groups = useMemo(() => {
    const blocks = (catalog && catalog.blocks) || [];
    const q = query.trim().toLowerCase();
    const hit = (b) => !q || [b.type, b.label, b.doc, b.category].some((s) => String(s || "").toLowerCase().includes(q));
    const cats = ((catalog && catalog.categories) || []).slice();
    for (const b of blocks) if (!cats.some((c) => c.id === b.category)) cats.push({ id: b.category, label: b.category });
    return cats.map((c) => ({ ...c, blocks: blocks.filter((b) => b.category === c.id && hit(b)) })).filter((c) => c.blocks.length);
  }, [catalog, query]);
  const count = groups.reduce((n, g) => n + g.blocks.length, 0);
  // One tab stop for the whole palette; arrow keys move between blocks (roving tabindex),
  // so keyboard users reach the canvas without tabbing through every block.
  const order = useMemo(() => groups.flatMap((g) => g.blocks.map((b) => b.type)), [groups]);
  const [active, setActive] = useState(null);
  const current = order.includes(active) ? active : order[0];
  const listRef = useRef(null);
  const move = (event) => {
    const i = order.indexOf(current);
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
    let next = null;
    if (step) next = order[Math.min(order.length - 1, Math.max(0, i + step))];
    else if (event.key === "Home") next = order[0];
    else if (event.key === "End") next = order[order.length - 1];
    if (next == null) return;
    event.preventDefault();
    setActive(next);
    const btn = listRef.current && listRef.current.querySelector(`[data-testid="palette-${next}"]`);
    if (btn) btn.focus();
  };

  return (
    <nav className="wb-palette" aria-label="Block palette" data-testid="palette">
      <input type="search" className="wb-search" placeholder="Search blocks…" aria-label="Search blocks"
        value={query} onChange={(e) => setQuery(e.target.value)} data-testid="palette-search" />
      <div className="wb-palette-list" role="group" ref={listRef} onKeyDown={move}
        aria-label="Blocks: arrow keys move, Enter adds the block to the canvas">
        {!catalog && <p className="wb-muted">No block catalog yet.</p>}
        {catalog && count === 0 && <p className="wb-muted">No block matches “{query}”.</p>}
        {groups.map((g) => (
          <section key={g.id} className="wb-cat" aria-label={g.label}>
            <h3 className={`wb-cat-title wb-cat-${g.id}`}>{g.label}</h3>
            <ul>
              {g.blocks.map((b) => (
                <li key={b.type}>
                  <button type="button" draggable className={`wb-palette-item wb-cat-${b.category}`}
                    data-testid={`palette-${b.type}`} title={b.doc} tabIndex={b.type === current ? 0 : -1}
                    aria-label={`Add ${b.label} block. ${b.doc || ""}`}
                    onClick={() => onAdd(b.type)}
                    onMouseEnter={() => setDoc(b)} onFocus={() => { setDoc(b); setActive(b.type); }}
                    onDragStart={(e) => { e.dataTransfer.setData(mime, b.type); e.dataTransfer.setData("text/plain", b.type); e.dataTransfer.effectAllowed = "copy"; }}>
                    {b.label}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
      <div className="wb-doc" aria-live="polite" data-testid="palette-doc">
        {doc ? (<><strong>{doc.label}</strong> <span className="wb-muted">({doc.type})</span><p>{doc.doc}</p></>)
          : <p className="wb-muted">Drag a block onto the canvas, tap or click it, or focus it and press Enter.</p>}
      </div>
    </nav>
  );
}
