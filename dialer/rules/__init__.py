"""The law as data: jurisdiction presets, calling calendars, phone numbers and do-not-call registers.

Owns: `preset` (a market's rules as a `Preset`: abandon limit and accounting
intervals, redial rule, calling hours, holidays, re-wash period), `presets`
(reading the packaged `data/presets.toml` or a user's own file), `calendar`
(is calling allowed at this instant, and if not why and until when),
`phone` (one spelling per telephone number, E.164) and `dnc` (keyed hashes,
the national and internal registers, washing a list).

Must not know about: campaigns, pacers, the simulator, the service, storage.
It sits beside the core: the core's controller never needs it (the core's
factory takes a preset as a plain value); the simulator, the service and the
compliance records use it. It imports from the core only the ledger's
`Interval`, in which a preset states its accounting intervals.

    from dialer.rules.presets import get_preset
    from dialer.rules.calendar import CallingCalendar
    CallingCalendar(get_preset("NO")).reason_closed(instant)   # "holiday: Christmas Day (Første juledag)"
"""
