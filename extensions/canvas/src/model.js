// The host model (anywidget's, or Panel's AnyWidgetComponent adapter): read a key as
// React state and follow its changes. Only get/set/save_changes/on/off are used, the
// subset every host implements.
import { useEffect, useState } from "react";

export function useModelValue(model, key) {
  const [value, setValue] = useState(() => model.get(key));
  useEffect(() => {
    const update = () => setValue(model.get(key));
    model.on(`change:${key}`, update);
    update();
    return () => {
      if (typeof model.off === "function") model.off(`change:${key}`, update);
    };
  }, [model, key]);
  return value;
}

export function setModel(model, key, value) {
  model.set(key, value);
  model.save_changes();
}
