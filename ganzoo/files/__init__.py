"""Files in and out: the safe read and write layer every command uses (:mod:`~ganzoo.files.safe`),
the one image decoder (:mod:`~ganzoo.files.images`), and network time-outs for downloads
(:mod:`~ganzoo.files.downloads`)."""
