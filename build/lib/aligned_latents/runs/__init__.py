"""Running the chapters: the parameter schema (:mod:`.params`); atomic reruns
(:mod:`.rerun`), their output folder (:mod:`.output`) and what they record
(:mod:`.provenance`); sweeps (:mod:`.sweep`), where their points run
(:mod:`.executors`) and their table and plot (:mod:`.sweep_report`); the rebuild from
nothing (:mod:`.verify`); and the ``aligned-latents`` command (:mod:`.cli`)."""
