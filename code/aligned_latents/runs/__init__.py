"""Running the chapters: the parameter schema (:mod:`.params`), atomic reruns
(:mod:`.rerun`), sweeps (:mod:`.sweep`) and the ``aligned-latents`` command (:mod:`.cli`)."""
