// The palette, generated from the block catalog: categories, search, docs on hover/focus.
import React, { useMemo, useState } from "react";

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

  return (
    <nav className="wb-palette" aria-label="Block palette" data-testid="palette">
      <input type="search" className="wb-search" placeholder="Search blocks…" aria-label="Search blocks"
        value={query} onChange={(e) => setQuery(e.target.value)} data-testid="palette-search" />
      <div className="wb-palette-list">
        {!catalog && <p className="wb-muted">No block catalog yet.</p>}
        {catalog && count === 0 && <p className="wb-muted">No block matches “{query}”.</p>}
        {groups.map((g) => (
          <section key={g.id} className="wb-cat" aria-label={g.label}>
            <h3 className={`wb-cat-title wb-cat-${g.id}`}>{g.label}</h3>
            <ul>
              {g.blocks.map((b) => (
                <li key={b.type}>
                  <button type="button" draggable className={`wb-palette-item wb-cat-${b.category}`}
                    data-testid={`palette-${b.type}`} title={b.doc}
                    aria-label={`Add ${b.label} block. ${b.doc || ""}`}
                    onClick={() => onAdd(b.type)}
                    onMouseEnter={() => setDoc(b)} onFocus={() => setDoc(b)}
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
          : <p className="wb-muted">Drag a block onto the canvas, or focus it and press Enter.</p>}
      </div>
    </nav>
  );
}
